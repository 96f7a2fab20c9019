package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Inputs for output-safety tests on {@link TinyModelFolder#TINY}: a random adapter, a small dataset, tree snapshots. */
final class TinyRun {
    private TinyRun() {
    }

    /** A random (non-zero B) LoRA adapter for the tiny model, saved into {@code dir}. */
    static Path adapter(Path dir) throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TinyModelFolder.TINY, 5, m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, LoraConfig.builder().optR(2).optLoraAlpha(4)
                    .optInitLoraWeights(InitLoraWeights.RANDOM).optTargetModules(TargetModules.of("q_proj", "v_proj"))
                    .build(), 3L);
            peft.save(dir);
        }
        return dir;
    }

    /** Eight alpaca records over the tiny vocabulary. */
    static Path data(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        String[] w = {"a", "b", "c", "d", "e", "f", "g"};
        for (int i = 0; i < 8; i++) {
            lines.add("{\"instruction\": \"" + w[i % 7] + " " + w[(i + 1) % 7] + "\", \"output\": \"" + w[(i + 2) % 7]
                    + " " + w[(i + 3) % 7] + "\"}");
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.write(file, lines);
    }

    /** Finetune arguments on the tiny model: {@code steps} steps, checkpoint every {@code every}. */
    static List<String> finetune(Path model, Path data, Path out, int steps, int every, String... extra) {
        List<String> a = new ArrayList<>(List.of("finetune", "--model", model.toString(), "--data", data.toString(),
                "--template", "alpaca", "--output", out.toString(), "--max-steps", Integer.toString(steps),
                "--batch-size", "2", "--max-seq-len", "48", "--checkpoint-every", Integer.toString(every), "--json"));
        a.addAll(List.of(extra));
        return a;
    }

    /** Every file under {@code root} with its bytes' hash, sorted: equal snapshots mean nothing changed. */
    static List<String> snapshot(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            List<String> out = new ArrayList<>();
            for (Path p : s.sorted().toList()) {
                out.add(root.relativize(p) + (Files.isRegularFile(p)
                        ? " " + java.util.Arrays.hashCode(Files.readAllBytes(p)) : "/"));
            }
            return out;
        }
    }
}
