package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.core.adapter.AdaptersDisabled;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.peft4j.lora.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mixed-adapter batches (PEFT's {@code adapter_names}): each row equals that row run alone with its adapter. */
class MixedAdapterBatchTest {
    static final LoraConfig A_QV = LoraConfig.builder().optR(8).optLoraAlpha(16)
            .optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final LoraConfig B_ALL = LoraConfig.builder().optR(4).optLoraAlpha(8).optUseRslora(true)
            .optTargetModules(TargetModules.ALL_LINEAR).optInitLoraWeights(InitLoraWeights.RANDOM).build();
    static final LoraConfig C_DORA = LoraConfig.builder().optR(4).optLoraAlpha(8).optUseDora(true)
            .optTargetModules(TargetModules.of("v_proj", "down_proj")).optInitLoraWeights(InitLoraWeights.RANDOM)
            .build();
    static final List<String> ROWS = List.of("a", AdapterRouting.BASE, "c", "b", "a");

    NDManager manager;
    LlamaModel model;
    PeftModel peft;
    NDArray ids;   // [5, 6]

    @BeforeEach
    void setUp() {
        manager = Peft4j.newManager();
        model = TinyModels.model(manager);
        peft = PeftModel.wrap(model);
        peft.addAdapter("a", A_QV, 1L);
        peft.addAdapter("b", B_ALL, 2L);
        peft.addAdapter("c", C_DORA, 3L);
        ids = manager.create(new long[] {1, 5, 9, 33, 2, 60, 7, 4, 11, 3, 8, 12, 40, 41, 42, 43, 44, 45,
            9, 9, 8, 8, 7, 7, 20, 30, 10, 50, 0, 6}, new Shape(5, 6));
    }

    @AfterEach
    void tearDown() {
        peft.close();
        model.close();
        manager.close();
    }

    /** Logits of row {@code row} alone with {@code adapter} active ({@code __base__}: adapters disabled). */
    float[] alone(int row, String adapter) {
        NDArray one = ids.get(new NDIndex(row + ":" + (row + 1)));
        if (AdapterRouting.BASE.equals(adapter)) {
            try (AdaptersDisabled off = peft.disableAdapters()) {
                return TinyModels.logits(peft, one);
            }
        }
        peft.setActiveAdapters(adapter);
        return TinyModels.logits(peft, one);
    }

    @Test
    void mixedBatch_eachRowEqualsRowAloneWithItsAdapter() {
        float[][] rows = new float[ROWS.size()][];
        try (NDScope scope = new NDScope()) {
            NDArray mixed = peft.forward(ids, null, null, ROWS);
            for (int r = 0; r < rows.length; r++) {
                rows[r] = mixed.get(r).toFloatArray();
            }
        }
        for (int r = 0; r < rows.length; r++) {
            float d = maxDiff(alone(r, ROWS.get(r)), rows[r]);
            assertTrue(d < 1e-5f, "row " + r + " (" + ROWS.get(r) + ") differs by " + d);
        }
        for (String other : List.of("b", "c", AdapterRouting.BASE)) {
            assertTrue(maxDiff(alone(0, other), rows[0]) > 1e-3f, "adapter a's row differs from " + other);
        }
    }

    @Test
    void mixedBatch_ignoresActiveAndDisabledState() {
        float[] before;
        try (NDScope scope = new NDScope()) {
            before = peft.forward(ids, null, null, ROWS).toFloatArray();
        }
        peft.setActiveAdapters("b");
        try (AdaptersDisabled off = peft.disableAdapters(); NDScope scope = new NDScope()) {
            assertArrayEquals(before, peft.forward(ids, null, null, ROWS).toFloatArray());
        }
    }

    @Test
    void generate_perRowAdapters_sameTokensAsEachPromptAlone() {
        int[][] prompts = {{1, 5, 9}, {7, 4, 11, 3, 8}, {40, 41}, {9, 9, 8, 8}};
        List<String> names = List.of("b", "a", AdapterRouting.BASE, "c");
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(6)
                .optRepetitionPenalty(10).build();
        List<int[]> batched;
        try (MixedAdapterModel m = peft.withAdapters(names)) {
            batched = new Generator(m).generateIds(prompts, greedy, TokenListener.NONE).tokens();
        }
        for (int r = 0; r < prompts.length; r++) {
            try (MixedAdapterModel m = peft.withAdapter(names.get(r))) {
                int[] alone = new Generator(m).generateIds(new int[][] {prompts[r]}, greedy, TokenListener.NONE)
                        .tokens().get(0);
                assertArrayEquals(alone, batched.get(r), "row " + r + " (" + names.get(r) + ")");
            }
        }
    }

    @Test
    void badRequests_refusedClearly() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> peft.forward(ids, null, null, List.of("a", "zz", "a", "a", "a")));
        assertTrue(unknown.getMessage().contains("zz"), unknown.getMessage());
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> peft.forward(ids, null, null, List.of("a", "b")));
        assertTrue(rows.getMessage().contains("5 rows"), rows.getMessage());
        try (MixedAdapterModel m = peft.withAdapter("a")) {
            IllegalStateException inside = assertThrows(IllegalStateException.class, () -> peft.deleteAdapter("b"));
            assertTrue(inside.getMessage().contains("close it"), inside.getMessage());
        }
        peft.setActiveAdapters("a");
        peft.merge();
        assertThrows(IllegalStateException.class, () -> peft.withAdapter("a"));
        peft.unmerge();
        peft.setTraining(true);
        assertThrows(IllegalStateException.class, () -> peft.withAdapter("a"));
        peft.setTraining(false);
        assertThrows(IllegalArgumentException.class, () -> peft.addAdapter(AdapterRouting.BASE, A_QV, 1L));
        peft.deleteAdapter("b");   // nothing left locked by the refused requests
        assertEquals(List.of("a", "c"), List.copyOf(peft.adapterNames()));
    }
}
