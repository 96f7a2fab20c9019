package io.peft4j.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.GenerationResult;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mixed batches of soft prompts (ours to define; PEFT cannot): rows of one batch name different prompt-tuning and
 * prefix-tuning adapters of different lengths, or the base. Each row's virtual tokens are left-padded to the longest
 * of their kind and masked, so every row's logits and greedy tokens equal those it gets alone with its adapter active.
 */
class MixedSoftPromptTest {
    static final List<String> ROWS = List.of("long", AdapterRegistry.BASE, "prefix", "short", "prefix", "wide");
    static final int[][] PROMPTS = {{1, 5, 9, 33, 2}, {7, 4}, {3, 8, 12}, {11}, {6, 6, 2, 40, 41, 50}, {9, 2}};

    static PeftModel withFourSoftPrompts(LlamaModel model) {
        PeftModel peft = PeftModel.wrap(model);
        peft.addAdapter("short", PromptTuningConfig.builder().setNumVirtualTokens(2).build(), 1L);
        peft.addAdapter("long", PromptTuningConfig.builder().setNumVirtualTokens(5).build(), 2L);
        peft.addAdapter("prefix", PrefixTuningConfig.builder().setNumVirtualTokens(3).build(), 3L);
        peft.addAdapter("wide", PrefixTuningConfig.builder().setNumVirtualTokens(6).build(), 4L);
        peft.setTraining(false);
        return peft;
    }

    @Test
    void firstStepLogits_eachRowEqualsItselfAlone() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = withFourSoftPrompts(model)) {
            int width = 6;
            long[] ids = new long[ROWS.size() * width];
            float[] mask = new float[ids.length];
            for (int r = 0; r < ROWS.size(); r++) {
                int pad = width - PROMPTS[r].length;
                for (int j = 0; j < PROMPTS[r].length; j++) {
                    ids[r * width + pad + j] = PROMPTS[r][j];
                    mask[r * width + pad + j] = 1;
                }
            }
            float[][] mixed = new float[ROWS.size()][];
            try (Inference.Scope in = Inference.enter(); NDScope scope = new NDScope();
                 MixedAdapterModel mix = peft.withAdapters(ROWS)) {
                NDArray last = mix.forwardLast(m.create(ids, new Shape(ROWS.size(), width)),
                        m.create(mask, new Shape(ROWS.size(), width)), null);
                for (int r = 0; r < ROWS.size(); r++) {
                    mixed[r] = last.get(r).toFloatArray();
                }
            }
            for (int r = 0; r < ROWS.size(); r++) {
                float[] alone = aloneLastLogits(peft, ROWS.get(r), PROMPTS[r], m);
                float d = maxDiff(alone, mixed[r]);
                assertTrue(d < 1e-5, "row " + r + " (" + ROWS.get(r) + "): max |d| " + d);
            }
        }
    }

    @Test
    void greedyGeneration_eachRowEqualsItselfAlone_throughTheCache() {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = withFourSoftPrompts(model)) {
            GenerationConfig g = GenerationConfig.builder().optMaxNewTokens(6).optEosTokenIds(List.of(0)).build();
            GenerationResult mixed;
            try (MixedAdapterModel mix = peft.withAdapters(ROWS)) {
                mixed = new Generator(mix).generateIds(PROMPTS, g, TokenListener.NONE);
            }
            boolean anyDiffersFromBase = false;
            for (int r = 0; r < ROWS.size(); r++) {
                int[] alone;
                try (MixedAdapterModel one = peft.withAdapter(ROWS.get(r))) {
                    alone = new Generator(one).generateIds(new int[][] {PROMPTS[r]}, g, TokenListener.NONE)
                            .tokens().get(0);
                }
                assertArrayEquals(alone, mixed.tokens().get(r), "row " + r + " (" + ROWS.get(r) + ")");
                int[] base = new Generator((CausalLM) model).generateIds(new int[][] {PROMPTS[r]}, g,
                        TokenListener.NONE).tokens().get(0);
                anyDiffersFromBase |= !java.util.Arrays.equals(base, alone);
            }
            assertTrue(anyDiffersFromBase, "the soft prompts change what is generated");
        }
    }

    /** Last-position logits of {@code prompt} alone with {@code adapter} active (or none). */
    private static float[] aloneLastLogits(PeftModel peft, String adapter, int[] prompt, NDManager m) {
        long[] ids = java.util.Arrays.stream(prompt).asLongStream().toArray();
        if (AdapterRegistry.BASE.equals(adapter)) {
            peft.setActiveAdapters();
        } else {
            peft.setActiveAdapters(adapter);
        }
        try (Inference.Scope in = Inference.enter(); NDScope scope = new NDScope()) {
            return peft.forwardLast(m.create(ids, new Shape(1, ids.length)), null, null).toFloatArray();
        }
    }
}
