package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Serving threads generate with different adapters while another thread loads, hot-swaps and unloads adapters:
 * every thread gets exactly the tokens its adapter gives when run alone, nothing throws, no native array leaks.
 */
class AdapterRegistryConcurrencyTest {
    // strong adapters and a repetition penalty, so the four choices give four different token sequences
    static final LoraConfig A = MixedAdapterBatchTest.A_QV.toBuilder().optLoraAlpha(256).build();
    static final LoraConfig B = MixedAdapterBatchTest.B_ALL.toBuilder().optLoraAlpha(64).build();
    static final LoraConfig C = MixedAdapterBatchTest.C_DORA.toBuilder().optLoraAlpha(64).build();
    static final LoraConfig K_ONLY = LoraConfig.builder().optR(2).optTargetModules(TargetModules.of("k_proj"))
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final List<String> NAMES = List.of("a", "b", "c", AdapterRouting.BASE);
    static final int[] PROMPT = {1, 5, 9, 33};
    static final GenerationConfig GREEDY = GenerationConfig.builder().optMaxNewTokens(8)
            .optRepetitionPenalty(10).build();
    static final int ROUNDS = 6;

    @TempDir
    Path tmp;

    static int[] generate(PeftModel peft, String adapter) {
        try (MixedAdapterModel m = peft.withAdapter(adapter)) {
            return new Generator(m).generateIds(new int[][] {PROMPT}, GREEDY, TokenListener.NONE).tokens().get(0);
        }
    }

    @Test
    void servingThreads_whileAnotherThreadLoadsSwapsUnloads_eachGetsItsAdaptersOutput() throws Exception {
        try (NDManager manager = Peft4j.newManager();
             LlamaModel model = TinyModels.model(manager);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("a", A, 11L);
            peft.addAdapter("b", B, 12L);
            peft.addAdapter("c", C, 13L);
            peft.saveAdapter("b", tmp.resolve("b"));
            Map<String, int[]> expected = new LinkedHashMap<>();
            NAMES.forEach(n -> expected.put(n, generate(peft, n)));
            assertEquals(NAMES.size(), expected.values().stream().map(Arrays::toString).distinct().count(),
                    "the adapters must give different tokens for the test to mean anything: " + show(expected));
            System.out.println("concurrency: expected " + show(expected));
            int arraysBefore = manager.getManagedArrays().size();

            ExecutorService pool = Executors.newFixedThreadPool(NAMES.size() + 2);
            AtomicBoolean servingDone = new AtomicBoolean();
            AtomicInteger swaps = new AtomicInteger();
            try {
                List<Future<?>> serving = new ArrayList<>();
                for (String n : NAMES) {
                    serving.add(pool.submit(() -> {
                        for (int i = 0; i < ROUNDS; i++) {
                            assertArrayEquals(expected.get(n), generate(peft, n), n + " round " + i);
                        }
                        return null;
                    }));
                }
                serving.add(pool.submit(() -> mixedRounds(peft, expected)));
                Future<?> writer = pool.submit(() -> {
                    while (!servingDone.get()) {
                        peft.addAdapter("k", K_ONLY, swaps.get());     // new wrappers on k_proj
                        peft.loadAdapter(tmp.resolve("b"), "b2");      // same weights as b, from disk
                        peft.setActiveAdapters("b2");
                        peft.registry().loadWeights("b", tmp.resolve("b"));
                        peft.setActiveAdapters("a");
                        peft.deleteAdapter("k");
                        peft.deleteAdapter("b2");
                        swaps.incrementAndGet();
                    }
                    return null;
                });
                for (Future<?> f : serving) {
                    f.get(5, TimeUnit.MINUTES);
                }
                servingDone.set(true);
                writer.get(1, TimeUnit.MINUTES);
            } finally {
                servingDone.set(true);
                pool.shutdownNow();
            }
            assertTrue(swaps.get() > 0, "the writer thread ran");
            assertEquals(List.of("a", "b", "c"), List.copyOf(peft.adapterNames()));
            assertFalse(model.linearLayers().get("model.layers.0.self_attn.k_proj") instanceof LoraLinear
                    && ((LoraLinear) model.linearLayers().get("model.layers.0.self_attn.k_proj")).adapterNames()
                    .contains("k"));
            assertEquals(arraysBefore, manager.getManagedArrays().size(), "native arrays leaked");
            System.out.println("concurrency: " + swaps.get() + " load/swap/unload cycles during "
                    + (NAMES.size() * ROUNDS) + " single-adapter and " + ROUNDS + " mixed generations");
        }
    }

    /** One batch of all four adapters at once, repeatedly; each row must equal its adapter alone. */
    private static Void mixedRounds(PeftModel peft, Map<String, int[]> expected) {
        int[][] prompts = new int[NAMES.size()][];
        Arrays.fill(prompts, PROMPT);
        for (int i = 0; i < ROUNDS; i++) {
            try (MixedAdapterModel m = peft.withAdapters(NAMES)) {
                List<int[]> got = new Generator(m).generateIds(prompts, GREEDY, TokenListener.NONE).tokens();
                for (int r = 0; r < NAMES.size(); r++) {
                    assertArrayEquals(expected.get(NAMES.get(r)), got.get(r), "mixed row " + NAMES.get(r));
                }
            }
        }
        return null;
    }

    private static String show(Map<String, int[]> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(k).append('=').append(Arrays.toString(v)).append(' '));
        return sb.toString();
    }
}
