package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Folds a LoRA adapter into the base weights ({@code W + scale·B·A}) and writes a dense Hugging Face folder
 * ({@code config.json}, {@code model.safetensors}, tokenizer files) that transformers' {@code from_pretrained} and
 * peft4j both load with no adapter. It answers a prompt with the adapter, merges, exports, loads the folder back and
 * answers again: the two greedy answers are the same.
 *
 * <pre>
 * ./peft4j example MergeAndExport MODEL ADAPTER_DIR OUT_DIR [PROMPT]
 * ./peft4j example MergeAndExport ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf my-adapter merged
 * </pre>
 */
public final class MergeAndExport {
    private MergeAndExport() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: ./peft4j example MergeAndExport MODEL ADAPTER_DIR OUT_DIR "
                    + "[PROMPT]");
        }
        Path modelPath = Path.of(args[0]);
        Path adapter = Path.of(args[1]);
        Path out = Path.of(args[2]);
        String prompt = args.length > 3 ? args[3] : "The capital of France is";
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(16).build();

        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).optAdapter(adapter).build()) {
            System.out.println("with the adapter: " + model.generate(prompt, greedy).strip().replace('\n', ' '));
            model.mergeAndExport(out);
        }
        try (Stream<Path> files = Files.list(out)) {
            List<Path> written = files.sorted().toList();
            for (Path f : written) {
                System.out.printf("wrote %s (%,d bytes)%n", f.getFileName(), Files.size(f));
            }
        }
        try (Peft4jModel merged = Peft4jModel.builder().setPath(out).build()) {
            System.out.println("merged folder:    " + merged.generate(prompt, greedy).strip().replace('\n', ' '));
        }
    }
}
