package io.peft4j.prompt;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.SelectiveCheckpointing;
import io.peft4j.core.model.TokenCrossEntropy;
import io.peft4j.core.model.VirtualTokens;
import io.peft4j.core.model.llama.LlamaModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Soft prompts train through the base model's layer-by-layer path (fused loss, optional full or selective
 * checkpointing, virtual tokens as leaves whose gradients are carried into the prompt's encoder at the end). The
 * reference is the plain way: one graph from the prompt table through full logits, {@link VirtualTokens#forward}, one
 * backward. Loss and every trainable gradient must agree, with a left-padded row and a chunk size that splits the
 * scored rows.
 */
class SoftPromptTrainingPathTest {

    static AdapterConfig config(String method) {
        return switch (method) {
            case "prompt" -> PromptTuningConfig.builder().setNumVirtualTokens(3).build();
            case "p-tuning" -> PromptEncoderConfig.builder().setNumVirtualTokens(3).setEncoderHiddenSize(8).build();
            case "prefix" -> PrefixTuningConfig.builder().setNumVirtualTokens(3).build();
            case "prefix-projection" -> PrefixTuningConfig.builder().setNumVirtualTokens(3).optPrefixProjection(true)
                    .build();
            default -> throw new IllegalArgumentException(method);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"prompt", "p-tuning", "prefix", "prefix-projection"})
    void layerByLayer_recordedAndCheckpointed_equalOneGraphOverFullLogits(String method) {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", config(method), 5L);
            peft.setTraining(true);
            List<NDArray> params = peft.trainableArrays();
            NDArray ids = TinyModels.ids(m);
            NDArray mask = m.create(new float[] {1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}, new Shape(2, 6));
            // row 0 scores positions 0..4, row 1 (two pads) positions 2..4
            long[] positions = {0, 1, 2, 3, 4, 8, 9, 10};
            long[] targets = {5, 9, 33, 2, 60, 11, 3, 8};
            NDArray divisor = m.create((float) positions.length);

            float refLoss = reference(peft, model, ids, mask, new TokenCrossEntropy(positions, targets, divisor, 0));
            float[] refGrads = gradientsAndZero(params);
            assertTrue(max(refGrads) > 1e-4, "the prompt gets a gradient");

            for (String how : new String[] {"recorded", "checkpointed", "selectively checkpointed"}) {
                boolean checkpoint = !how.equals("recorded");
                float loss;
                try (NDScope scope = new NDScope()) {
                    loss = SelectiveCheckpointing.during(how.startsWith("selective"), () -> peft.backward(ids, mask,
                            new TokenCrossEntropy(positions, targets, divisor, 3), checkpoint, 11L));
                }
                float[] grads = gradientsAndZero(params);
                String mode = method + ", " + how;
                assertEquals(refLoss, loss, 1e-5, mode + ": loss");
                assertTrue(TinyModels.maxDiff(refGrads, grads) < 1e-5 * Math.max(1, max(refGrads)),
                        mode + ": largest gradient difference " + TinyModels.maxDiff(refGrads, grads)
                                + " (largest gradient " + max(refGrads) + ")");
            }
        }
    }

    /** One graph: the adapter's virtual tokens, full logits, the unfused loss, one backward. */
    private static float reference(PeftModel peft, LlamaModel model, NDArray ids, NDArray mask,
                                   TokenCrossEntropy loss) {
        try (NDScope scope = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            VirtualTokens v = peft.adapter("default").virtualTokens(model, ids.getManager(), true);
            NDArray value = loss.apply(v.forward(model, model.embed(ids), mask, null));
            gc.backward(value);
            return value.getFloat();
        }
    }

    private static float[] gradientsAndZero(List<NDArray> params) {
        int n = 0;
        for (NDArray p : params) {
            n += Math.toIntExact(p.size());
        }
        float[] out = new float[n];
        int at = 0;
        for (NDArray p : params) {
            try (NDArray g = p.getGradient()) {
                float[] values = g.toFloatArray();
                System.arraycopy(values, 0, out, at, values.length);
                at += values.length;
                g.subi(g);
            }
        }
        return out;
    }

    private static float max(float[] a) {
        float max = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
