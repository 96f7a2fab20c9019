package io.peft4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.peft4j.lora.TinyModels.logits;
import static io.peft4j.lora.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapter files against Python PEFT ({@code scripts/interop/peft_reference.py}) on the real SmolLM2 GGUF:
 * an adapter PEFT creates (r=8, non-zero B) loads here with the same logits, and an adapter peft4j trains
 * (DoRA + rsLoRA on all linear layers, modules_to_save copies of the tied lm_head and every norm) loads in PEFT with
 * no missing/unexpected keys and the same logits.
 */
class LoraInteropIT {
    static final long[] IDS = {1, 504, 3458, 314, 253, 1345, 28, 1007};
    static final float TOLERANCE = 1e-3f;
    @TempDir
    Path tmp;

    @Test
    void peftCreatedAdapter_loadsHere_withPeftLogits() throws Exception {
        Path dir = tmp.resolve("py");
        ReferenceScripts.run("peft_reference.py", "create", dir.toString());
        float[] want = ReferenceScripts.readF32(dir.resolve("logits.f32"));
        ReferenceScripts.withRealModel(IDS, (model, peft, ids, ckpt) -> {
            float[] base = logits(peft, ids);
            peft.loadAdapter(dir, "default");
            float[] got = logits(peft, ids);
            System.err.printf("PEFT-made adapter: max |d| %.3g (adapter moves logits by %.3g)%n", maxDiff(want, got),
                    maxDiff(base, got));
            assertTrue(maxDiff(base, got) > 10 * TOLERANCE, "the adapter changes the logits");
            assertTrue(maxDiff(want, got) < TOLERANCE, "max |d| vs PEFT " + maxDiff(want, got));
        });
    }

    @Test
    void peft4jTrainedDoraAdapterWithModulesToSave_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        Path dir = tmp.resolve("java");
        float[][] mine = new float[1][];
        ReferenceScripts.withRealModel(IDS, (model, peft, ids, ckpt) -> {
            peft.addAdapter("default", LoraConfig.builder().optR(8).optLoraAlpha(16).optUseDora(true)
                    .optUseRslora(true).optTargetModules(TargetModules.ALL_LINEAR)
                    .optModulesToSave(List.of("lm_head", "norm")).build(), 7L);
            List<Example> data = new ArrayList<>();
            for (String s : List.of("The cat sat on the mat.", "Two plus two is four.", "Paris is in France.",
                    "Water boils at 100 degrees.")) {
                data.add(Example.unmasked(ckpt.tokenizer().encode(s, true)));
            }
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(3).optBatchSize(4).optLearningRate(5e-3).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.train(data, null);
            }
            peft.save(dir);
            mine[0] = logits(peft, ids);
        });
        JsonNode report = Json.MAPPER.readTree(ReferenceScripts.run("peft_reference.py", "check", dir.toString(),
                tmp.resolve("py.f32").toString()));
        assertEquals(0, report.get("missing").size(), "missing keys: " + report.get("missing"));
        assertEquals(0, report.get("unexpected").size(), "unexpected keys: " + report.get("unexpected"));
        float[] theirs = ReferenceScripts.readF32(tmp.resolve("py.f32"));
        System.err.printf("peft4j-made DoRA + modules_to_save adapter in PEFT: max |d| %.3g%n", maxDiff(mine[0], theirs));
        assertTrue(maxDiff(mine[0], theirs) < TOLERANCE, "max |d| vs PEFT " + maxDiff(mine[0], theirs));
    }
}
