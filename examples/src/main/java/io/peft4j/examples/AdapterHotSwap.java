package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * One base model, three adapters, several threads: each thread answers with its own adapter
 * ({@link Peft4jModel#generateWith}) while the main thread keeps loading and removing a fourth adapter. A swap waits
 * for the calls in flight and no call sees a half-loaded adapter, so every thread gets the same answers it would get
 * alone. Prints each adapter's answers and how many load/remove rounds ran meanwhile.
 *
 * <p>Give up to three PEFT LoRA folders (from Python PEFT's {@code save_pretrained} or from peft4j); the missing
 * ones are made here as stand-ins: LoRA with random A and B (PEFT's {@code init_lora_weights=False}), so each
 * visibly changes the answers without training.
 *
 * <pre>
 * ./peft4j example AdapterHotSwap MODEL [ADAPTER_DIR ...] [--tokens N]
 * ./peft4j example AdapterHotSwap ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf my-adapter
 * </pre>
 */
public final class AdapterHotSwap {
    private static final List<String> PROMPTS = List.of("The capital of France is", "My favourite food is");

    private AdapterHotSwap() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: ./peft4j example AdapterHotSwap MODEL [ADAPTER_DIR ...] "
                    + "[--tokens N]");
        }
        int maxNewTokens = 24;
        List<Path> folders = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--tokens") && i + 1 < args.length) {
                maxNewTokens = Integer.parseInt(args[++i]);
            } else {
                folders.add(Path.of(args[i]));
            }
        }
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxNewTokens).build();

        try (Peft4jModel model = Peft4jModel.builder().setPath(Path.of(args[0])).build()) {
            // Three adapters over the one base: the folders given, then stand-ins.
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String name = "adapter-" + (i + 1);
                if (i < folders.size()) {
                    model.loadAdapter(folders.get(i), name);
                } else {
                    model.addAdapter(name, LoraConfig.builder().optR(8).optLoraAlpha(16)
                            .optTargetModules(TargetModules.of("q_proj", "v_proj"))
                            .optInitLoraWeights(InitLoraWeights.RANDOM).build(), 100 + i);
                }
                names.add(name);
            }
            names.add("__base__");   // no adapter
            Path swapping = Files.createTempDirectory("peft4j-hotswap");
            model.peft().saveAdapter(names.get(0), swapping);

            // One thread per adapter; meanwhile load and remove another adapter until they are done.
            ExecutorService pool = Executors.newFixedThreadPool(names.size());
            Map<String, Future<List<String>>> answers = new LinkedHashMap<>();
            for (String name : names) {
                answers.put(name, pool.submit(() -> {
                    List<String> out = new ArrayList<>();
                    for (String prompt : PROMPTS) {
                        out.add(model.generateWith(name, prompt, greedy).strip());
                    }
                    return out;
                }));
            }
            int rounds = 0;
            while (answers.values().stream().anyMatch(f -> !f.isDone())) {
                model.loadAdapter(swapping, "swapping");
                model.peft().deleteAdapter("swapping");
                rounds++;
            }
            pool.shutdown();
            try (Stream<Path> files = Files.list(swapping)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(swapping);
            System.out.println("load/remove rounds while generating: " + rounds);
            for (Map.Entry<String, Future<List<String>>> e : answers.entrySet()) {
                for (int i = 0; i < PROMPTS.size(); i++) {
                    System.out.println("[" + e.getKey() + "] " + PROMPTS.get(i) + " => "
                            + e.getValue().get().get(i).replace('\n', ' '));
                }
            }
        }
    }
}
