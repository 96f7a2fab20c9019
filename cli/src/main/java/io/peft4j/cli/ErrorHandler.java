package io.peft4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CLI's error contract: bad input (a bad file, a bad option value) prints one line {@code peft4j: ...} naming what
 * is at fault and exits 2; anything else exits 1 as {@code peft4j: internal error: ...}. A bad option value names the
 * flag as typed and ends in "see --help" instead of printing the whole usage. With {@code --json} the error is also
 * one JSON object on stdout, {@code {"error": ..., "exit_code": ...}}; {@code --debug} adds the stack trace.
 *
 * <pre>{@code
 * CommandLine cl = new CommandLine(new Peft4jCommand());
 * ErrorHandler h = new ErrorHandler(List.of(args));
 * cl.setExecutionExceptionHandler(h).setParameterExceptionHandler(h);
 * }</pre>
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {
    private final boolean json;
    private final boolean debug;

    /** @param args the command line as given (only {@code --json} and {@code --debug} are looked at) */
    ErrorHandler(List<String> args) {
        this.json = args.contains("--json");
        this.debug = args.contains("--debug");
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult parsed) {
        boolean badInput = isBadInput(e);
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int code = badInput ? 2 : 1;
        report((badInput ? "" : "internal error: ") + message.lines().findFirst().orElse(""), code);
        if (debug) {
            e.printStackTrace(System.err);
        }
        return code;
    }

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        String command = e.getCommandLine().getCommandName();
        String help = "peft4j".equals(command) ? "peft4j --help" : "peft4j " + command + " --help";
        String message = e.getMessage() == null ? "bad command line" : e.getMessage().lines().findFirst().orElse("");
        report(asTyped(message, e, args) + " (see " + help + ")", 2);
        if (debug) {
            e.printStackTrace(System.err);
        }
        return 2;
    }

    /** picocli names an option by its longest alias; say it as the user typed it ({@code --max-length}). */
    private static String asTyped(String message, ParameterException e, String[] args) {
        if (!(e.getArgSpec() instanceof picocli.CommandLine.Model.OptionSpec option)) {
            return message;
        }
        for (String arg : args) {
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            if (java.util.Arrays.asList(option.names()).contains(name) && !name.equals(option.longestName())) {
                return message.replace(option.longestName(), name);
            }
        }
        return message;
    }

    private void report(String line, int code) {
        System.err.println("peft4j: " + line);
        if (json) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("error", line);
            error.put("exit_code", code);
            try {
                System.out.println(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(error));
            } catch (JsonProcessingException ex) {
                throw new UncheckedIOException(ex);
            }
            System.out.flush();
        }
    }

    static boolean isBadInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeftException || t instanceof IllegalArgumentException
                    || t instanceof java.nio.file.NoSuchFileException || t instanceof UncheckedIOException
                    || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
