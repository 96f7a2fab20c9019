package io.peft4j.cli;

import io.peft4j.examples.AdapterHotSwap;
import io.peft4j.examples.EvaluateAdapter;
import io.peft4j.examples.MergeAndExport;
import io.peft4j.examples.PreferenceTuning;
import io.peft4j.examples.PromptTuningClassifier;
import io.peft4j.examples.QLoraInstructionTuning;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j example NAME [ARGS...]}: runs one of the {@code io.peft4j.examples} mains with the arguments after
 * its name, unchanged (so every example runs the same way from a checkout). NAME is the class name or its
 * kebab-case form ({@code qlora-instruction-tuning}); an unknown name lists the known ones. An example's bad
 * arguments end as one usage line and exit 2.
 *
 * <pre>{@code
 * ./peft4j example MergeAndExport model.gguf my-adapter merged
 * }</pre>
 */
@Command(name = "example", description = "Run an example main from the examples module: "
        + "QLoraInstructionTuning, PromptTuningClassifier, PreferenceTuning, AdapterHotSwap, MergeAndExport, "
        + "EvaluateAdapter.")
final class ExampleCommand implements Callable<Integer> {
    /** An example's {@code main}. */
    interface Main {
        void run(String[] args) throws Exception;
    }

    static final Map<String, Main> EXAMPLES = examples();

    @Parameters(index = "0", paramLabel = "NAME", description = "The example (class name or kebab-case).")
    String name;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The example's arguments (see its usage line).")
    List<String> args = new ArrayList<>();

    private static Map<String, Main> examples() {
        Map<String, Main> m = new LinkedHashMap<>();
        m.put("QLoraInstructionTuning", QLoraInstructionTuning::main);
        m.put("PromptTuningClassifier", PromptTuningClassifier::main);
        m.put("PreferenceTuning", PreferenceTuning::main);
        m.put("AdapterHotSwap", AdapterHotSwap::main);
        m.put("MergeAndExport", MergeAndExport::main);
        m.put("EvaluateAdapter", EvaluateAdapter::main);
        return m;
    }

    @Override
    public Integer call() throws Exception {
        for (Map.Entry<String, Main> e : EXAMPLES.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name) || kebab(e.getKey()).equals(name.toLowerCase(Locale.ROOT))) {
                e.getValue().run(args.toArray(String[]::new));
                return 0;
            }
        }
        throw new IllegalArgumentException("no example '" + name + "' (known: " + String.join(", ", EXAMPLES.keySet())
                + ")");
    }

    /** {@code QLoraInstructionTuning} -> {@code qlora-instruction-tuning}. */
    static String kebab(String className) {
        return className.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
