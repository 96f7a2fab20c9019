package io.peft4j.cli;

import io.peft4j.core.PeftException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/** Bad input prints one line naming what is at fault and exits 2; anything else exits 1. {@code --debug} adds the trace. */
final class ErrorHandler implements IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult parsed) {
        boolean debug = Arrays.asList(parsed.originalArgs().toArray(new String[0])).contains("--debug");
        boolean badInput = isBadInput(e);
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        System.err.println("peft4j: " + (badInput ? "" : "internal error: ") + message.lines().findFirst().orElse(""));
        if (debug) {
            e.printStackTrace(System.err);
        }
        return badInput ? 2 : 1;
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
