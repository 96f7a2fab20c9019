package io.peft4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code peft4j} command: a thin front end over the library's public API.
 * Exit codes: 0 success, 2 bad input (one clear line on stderr), 1 internal failure.
 */
@Command(name = "peft4j", mixinStandardHelpOptions = true, version = "peft4j 0.1.0",
        description = "Parameter-efficient fine-tuning (LoRA, QLoRA, prompt tuning) on the JVM.",
        subcommands = {DemoCommand.class, InspectCommand.class, GenerateCommand.class, EvalCommand.class,
                DataCommand.class, FinetuneCommand.class, MergeCommand.class, BenchCommand.class,
                QuantizeCommand.class})
public final class Peft4jCommand implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Peft4jCommand());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
