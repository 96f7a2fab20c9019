package io.peft4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.List;

/**
 * The {@code peft4j} command: a thin front end over the library's public API.
 * Exit codes: 0 success (also for {@code COMMAND --help}, which every subcommand takes), 2 bad input (one clear
 * line on stderr, see {@link ErrorHandler}), 1 internal failure.
 */
@Command(name = "peft4j", mixinStandardHelpOptions = true, version = "peft4j 0.1.0",
        description = "Parameter-efficient fine-tuning (LoRA, QLoRA, prompt tuning) on the JVM.",
        subcommands = {DemoCommand.class, InspectCommand.class, GenerateCommand.class, EvalCommand.class,
                DataCommand.class, FinetuneCommand.class, MergeCommand.class, BenchCommand.class,
                QuantizeCommand.class, ServeCommand.class, ExampleCommand.class})
public final class Peft4jCommand implements Runnable {

    /**
     * Runs the command line and exits the JVM with its exit code.
     *
     * @param args the command line, e.g. {@code eval --model m.gguf --data val.jsonl --json}
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line and returns its exit code (tests call this).
     *
     * @param args the command line
     * @return 0 on success, 2 for bad input, 1 for an internal failure
     */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Peft4jCommand());
        addHelpOption(cl);
        cl.getSubcommands().get("example").setStopAtPositional(true);   // every word after NAME goes to the example
        ErrorHandler errors = new ErrorHandler(List.of(args));
        cl.setExecutionExceptionHandler(errors);
        cl.setParameterExceptionHandler(errors);
        return cl.execute(args);
    }

    /** Gives every subcommand (at any depth) {@code -h, --help} unless it declares its own. */
    private static void addHelpOption(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            if (spec.findOption("--help") == null) {
                spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                        .description("Show this help message and exit.").build());
            }
            addHelpOption(sub);
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
