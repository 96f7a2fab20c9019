package io.peft4j.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.LoraConfig;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Serving {@code n} LoRA adapters over one base: one mixed batch (row i uses adapter i) against {@code n} separate
 * single-row runs, and against one batch where every row uses the same adapter (the cost of mixing), for a
 * prefill forward (last-position logits of {@code [n, seq]} random tokens) and for greedy generation of
 * {@code newTokens} tokens. Times are medians over {@code repeats} runs after one warm-up. {@link #report} is
 * {@code peft4j bench mixed}.
 *
 * <pre>{@code
 * MixedBatchBenchmark.Result r = MixedBatchBenchmark.run(model, LoraConfig.builder().optR(16)
 *         .optTargetModules(TargetModules.ALL_LINEAR).build(), 4, 128, 16, 3);
 * double speedUp = r.separateForwardS() / r.mixedForwardS();
 * }</pre>
 */
public final class MixedBatchBenchmark {
    private MixedBatchBenchmark() {
    }

    /**
     * @param mixedForwardS     one forward of the mixed batch
     * @param separateForwardS  {@code n} single-row forwards, one per adapter
     * @param sameForwardS      one forward of the batch with one adapter for every row
     * @param mixedGenerateS    generating for the mixed batch
     * @param separateGenerateS {@code n} single-row generations, one per adapter
     */
    public record Result(int adapters, int seq, int newTokens, double mixedForwardS, double separateForwardS,
                         double sameForwardS, double mixedGenerateS, double separateGenerateS) {
    }

    /**
     * {@code peft4j bench mixed}: loads {@code model}, runs {@link #run} and returns the {@code --json} keys.
     */
    public static Map<String, Object> report(Path model, LoraConfig config, int adapters, int seq, int newTokens,
                                             int repeats, Consumer<String> status)
            throws PeftException, NoSuchFileException {
        if (adapters < 1 || seq < 1 || newTokens < 1 || repeats < 1) {
            throw new IllegalArgumentException("--adapters, --seq, --new-tokens and --repeats must be >= 1");
        }
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "mixed");
        try (BenchModel base = BenchModel.open(model)) {
            status.accept("bench mixed: " + adapters + " LoRA adapters r=" + config.r() + " "
                    + TrainBenchmark.describe(config.targetModules()) + ", seq " + seq + ", " + newTokens
                    + " new tokens ...");
            Result b = run(base.model(), config, adapters, seq, newTokens, repeats);
            res.put("adapters", adapters);
            res.put("seq", seq);
            res.put("new_tokens", newTokens);
            res.put("mixed_forward_s", round(b.mixedForwardS()));
            res.put("separate_forward_s", round(b.separateForwardS()));
            res.put("same_adapter_forward_s", round(b.sameForwardS()));
            res.put("mixed_generate_s", round(b.mixedGenerateS()));
            res.put("separate_generate_s", round(b.separateGenerateS()));
            res.put("ratio_forward_separate_over_mixed", round(b.separateForwardS() / b.mixedForwardS()));
            res.put("ratio_forward_mixed_over_same", round(b.mixedForwardS() / b.sameForwardS()));
            res.put("ratio_generate_separate_over_mixed", round(b.separateGenerateS() / b.mixedGenerateS()));
        }
        return res;
    }

    /** Attaches {@code adapters} copies of {@code config} (different seeds), measures, and detaches them. */
    public static Result run(CausalLM model, LoraConfig config, int adapters, int seq, int newTokens, int repeats) {
        int[][] prompts = new int[adapters][seq];
        Random rng = new Random(1);
        for (int[] p : prompts) {
            Arrays.setAll(p, i -> rng.nextInt(model.config().vocabSize()));
        }
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(newTokens)
                .optEosTokenIds(List.of(-1)).build();   // no early stop: every run makes newTokens tokens
        try (PeftModel peft = PeftModel.wrap(model)) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < adapters; i++) {
                names.add("adapter" + i);
                peft.addAdapter(names.get(i), config, 1L + i);
            }
            double mixed = Medians.timed(repeats, () -> forward(peft.withAdapters(names), prompts));
            double same = Medians.timed(repeats, () -> forward(peft.withAdapter(names.get(0)), prompts));
            double separate = Medians.timed(repeats, () -> {
                double s = 0;
                for (int i = 0; i < adapters; i++) {
                    s += forward(peft.withAdapter(names.get(i)), new int[][] {prompts[i]});
                }
                return s;
            });
            double mixedGen = Medians.timed(repeats, () -> generate(peft.withAdapters(names), prompts, greedy));
            double separateGen = Medians.timed(repeats, () -> {
                double s = 0;
                for (int i = 0; i < adapters; i++) {
                    s += generate(peft.withAdapter(names.get(i)), new int[][] {prompts[i]}, greedy);
                }
                return s;
            });
            return new Result(adapters, seq, newTokens, mixed, separate, same, mixedGen, separateGen);
        }
    }

    private static double forward(MixedAdapterModel m, int[][] prompts) {
        try (m; NDManager sub = m.manager().newSubManager(); NDScope scope = new NDScope()) {
            long[] flat = Arrays.stream(prompts).flatMapToLong(p -> Arrays.stream(p).asLongStream()).toArray();
            long start = System.nanoTime();
            m.forwardLast(sub.create(flat, new Shape(prompts.length, prompts[0].length)), null, null).toFloatArray();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static double generate(MixedAdapterModel m, int[][] prompts, GenerationConfig config) {
        try (m) {
            long start = System.nanoTime();
            new Generator(m).generateIds(prompts, config, TokenListener.NONE);
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
