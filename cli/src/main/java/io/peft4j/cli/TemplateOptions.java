package io.peft4j.cli;

import io.peft4j.datasets.FieldNames;
import picocli.CommandLine.Option;

import java.util.List;

/**
 * How dataset records are read and rendered, shared by {@code finetune}, {@code data} and {@code eval} (on
 * instruction records): {@code --template} and
 * the {@code --field} renames. Mix in with {@code @Mixin TemplateOptions format;} beside {@link DatasetOptions}.
 *
 * <pre>{@code
 * Dataset d = DatasetReader.builder().setPath(dataset.data).optFieldNames(format.fieldNames()).build().readAll();
 * }</pre>
 */
final class TemplateOptions {
    @Option(names = "--template", description = "Built-in template (alpaca, chatml, llama-2, llama-3, mistral, "
            + "vicuna, zephyr) or 'chat' for the model's own. Default: chat when the model has one, else alpaca.")
    String template;

    @Option(names = "--field", description = "Field rename CANONICAL=ACTUAL, e.g. instruction=question (repeatable).")
    List<String> fields;

    /** {@link FieldNames#DEFAULT} with every {@code --field} rename applied. */
    FieldNames fieldNames() {
        FieldNames names = FieldNames.DEFAULT;
        for (String f : fields == null ? List.<String>of() : fields) {
            String[] kv = f.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("--field must be CANONICAL=ACTUAL, got '" + f + "'");
            }
            names = names.with(kv[0].trim(), kv[1].trim());
        }
        return names;
    }
}
