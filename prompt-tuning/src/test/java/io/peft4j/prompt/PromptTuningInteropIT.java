package io.peft4j.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt-tuning adapter files against Python PEFT ({@code scripts/interop/prompt_reference.py}) on the real SmolLM2
 * GGUF: an adapter PEFT creates (TEXT init) loads here with PEFT's logits and equals our own TEXT init of the same
 * text; an adapter peft4j trains loads in PEFT ({@code PeftModel.from_pretrained}) with no missing / unexpected keys
 * and the same logits. The same both ways for P-tuning (MLP encoder; the file holds the encoder's output) and for
 * prefix tuning (the prefix itself, and with PEFT's projection; the file holds {@code [P, layers·2·token_dim]} split
 * per layer as PEFT's {@code get_prompt} splits it, grouped-query dims included).
 */
class PromptTuningInteropIT {
    static final long[] IDS = {1, 504, 3458, 314, 253, 1345, 28, 1007};
    static final String INIT_TEXT = "Answer briefly and politely:";
    /** The bound on |peft4j - PEFT|, unless PEFT's own fp32 logits are further than that from fp64's. */
    static final float TOLERANCE = 1e-4f;
    @TempDir
    Path tmp;

    static PromptTuningConfig textInit(Checkpoint ckpt) {
        return PromptTuningConfig.builder().setNumVirtualTokens(8).optPromptTuningInitText(INIT_TEXT, ckpt.tokenizer())
                .optTokenizerNameOrPath(TestResources.testModel().getParent().toString()).build();
    }

    @Test
    void peftCreatedTextInitAdapter_loadsHere_withPeftLogits_andEqualsOurTextInit() throws Exception {
        Path dir = tmp.resolve("py");
        ReferenceScripts.run("prompt_reference.py", "create", dir.toString(), "TEXT", INIT_TEXT);
        float[] want = ReferenceScripts.readF32(dir.resolve("logits.f32"));
        float[] exact = ReferenceScripts.readF32(dir.resolve("logits.fp64.f32"));
        float[] peftTable;
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            peftTable = r.readFloats("prompt_embeddings");
        }
        ReferenceScripts.withRealModel(IDS, (model, peft, ids, ckpt) -> {
            float[] base = logits(model, ids);
            peft.loadAdapter(dir, "default");
            float[] got = logits(peft.asCausalLM(), ids);
            assertTrue(maxDiff(base, got) > 1e-2, "the prompt changes the logits");
            assertAsCloseAsPeft(want, exact, got, "PEFT-made prompt (moves logits by " + maxDiff(base, got) + ")");
            peft.addAdapter("ours", textInit(ckpt), 0L);
            float[] ours = peft.adapter("ours").stateDict().get("prompt_embeddings").toFloatArray();
            System.err.printf("TEXT init: max |d| vs PEFT's table %.3g%n", maxDiff(peftTable, ours));
            assertTrue(maxDiff(peftTable, ours) < 1e-5, "TEXT init equals PEFT's: " + maxDiff(peftTable, ours));
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"P_TUNING", "PREFIX_TUNING", "PREFIX_PROJECTION"})
    void peftCreatedEncoderOrPrefixAdapter_loadsHere_withPeftLogits(String kind) throws Exception {
        Path dir = tmp.resolve("py-" + kind);
        ReferenceScripts.run("prompt_reference.py", "create", dir.toString(), kind);
        float[] want = ReferenceScripts.readF32(dir.resolve("logits.f32"));
        float[] exact = ReferenceScripts.readF32(dir.resolve("logits.fp64.f32"));
        ReferenceScripts.withRealModel(IDS, (model, peft, ids, ckpt) -> {
            float[] base = logits(model, ids);
            peft.loadAdapter(dir, "default");
            float[] got = logits(peft.asCausalLM(), ids);
            assertTrue(maxDiff(base, got) > 1e-2, "the prompt changes the logits");
            assertAsCloseAsPeft(want, exact, got, "PEFT-made " + kind + " (moves logits by " + maxDiff(base, got)
                    + ")");
        });
    }

    @Test
    void peft4jTrainedPrefixAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        trainSaveCheck(PrefixTuningConfig.builder().setNumVirtualTokens(8).build(), "prefix tuning");
    }

    @Test
    void peft4jTrainedPTuningAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        trainSaveCheck(PromptEncoderConfig.builder().setNumVirtualTokens(8).setEncoderHiddenSize(64).build(),
                "P-tuning");
    }

    @Test
    void peft4jTrainedAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        trainSaveCheck(null, "prompt tuning");
    }

    private void trainSaveCheck(PromptLearningConfig config, String what) throws Exception {
        Path dir = tmp.resolve("java");
        float[][] mine = new float[1][];
        ReferenceScripts.withRealModel(IDS, (model, peft, ids, ckpt) -> {
            peft.addAdapter("default", config == null ? textInit(ckpt) : config, 7L);
            List<Example> data = new ArrayList<>();
            for (String s : List.of("The cat sat on the mat.", "Two plus two is four.", "Paris is in France.",
                    "Water boils at 100 degrees.")) {
                data.add(Example.unmasked(ckpt.tokenizer().encode(s, true)));
            }
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(3).optBatchSize(4).optLearningRate(3e-2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.train(data, null);
            }
            peft.save(dir);
            mine[0] = logits(peft.asCausalLM(), ids);
        });
        JsonNode report = Json.MAPPER.readTree(ReferenceScripts.run("prompt_reference.py", "check", dir.toString(),
                tmp.resolve("py.f32").toString()));
        assertEquals(0, report.get("missing").size(), "missing keys: " + report.get("missing"));
        assertEquals(0, report.get("unexpected").size(), "unexpected keys: " + report.get("unexpected"));
        assertEquals(0.0, report.get("loaded_max_diff").asDouble(), "PEFT's table is the file's");
        float[] theirs = ReferenceScripts.readF32(tmp.resolve("py.f32"));
        float[] exact = ReferenceScripts.readF32(tmp.resolve("py.fp64.f32"));
        assertAsCloseAsPeft(theirs, exact, mine[0], "peft4j-trained " + what + " in PEFT");
    }

    /**
     * peft4j's logits {@code got} against PEFT's fp32 logits {@code peft} and the float64 forward {@code exact}: within
     * {@link #TOLERANCE} of PEFT where fp32 allows it. Where PEFT's own fp32 result is further than that from the exact
     * values (a prefix of N(0, 1) keys and values moves the logits by ~45, and 30 layers of fp32 sums then lose a few
     * 1e-4 in any implementation), peft4j must be as accurate as PEFT within a factor 3 (|got - exact| <= 3 e,
     * e = |peft - exact|), which bounds |got - peft| by 4 e.
     */
    private static void assertAsCloseAsPeft(float[] peft, float[] exact, float[] got, String what) {
        float peftError = maxDiff(peft, exact);
        float toExact = Math.max(TOLERANCE, 3f * peftError);
        float toPeft = Math.max(TOLERANCE, 4f * peftError);
        System.err.printf("%s: max |d| vs PEFT %.3g (bound %.3g), vs fp64 %.3g (bound %.3g); PEFT's fp32 vs fp64 %.3g%n",
                what, maxDiff(peft, got), toPeft, maxDiff(exact, got), toExact, peftError);
        assertTrue(maxDiff(peft, got) < toPeft, what + ": max |d| vs PEFT " + maxDiff(peft, got) + " >= " + toPeft);
        assertTrue(maxDiff(exact, got) < toExact, what + ": max |d| vs fp64 " + maxDiff(exact, got) + " >= "
                + toExact);
    }
}
