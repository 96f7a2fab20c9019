package io.peft4j.qlora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.LoraLinear;
import io.peft4j.quant.DecodeKernels;
import io.peft4j.quant.GgmlBlockLinear;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A LoRA adapter on a GGUF-block base layer: the decode path (base from the blocks with the SIMD kernel, then
 * LoRA's x·A·B on top) equals the libtorch path (dequantized base) within fp32 reordering error.
 */
class LoraOnBlockDecodeTest {
    @Test
    void loraOverBlockLayer_decodeVsLibtorchPath_withinTolerance() {
        Random rng = new Random(11);
        int out = 96;
        int in = 128;
        byte[] blocks = new byte[out * in / 32 * 20];
        rng.nextBytes(blocks);
        for (int b = 0; b < out * in / 32; b++) {
            blocks[b * 20 + 1] = 0x20; // fp16 scale ~0.008
            blocks[b * 20 + 3] = (byte) 0xA4; // fp16 min ~ -0.02
        }
        try (NDManager m = Peft4j.newManager()) {
            GgmlBlockLinear base = new GgmlBlockLinear("w", GgmlType.Q4_1, new long[] {out, in}, blocks, null);
            try (LoraLinear lora = new LoraLinear("model.layers.0.self_attn.q_proj", base, m)) {
                lora.addAdapter("default", LoraConfig.builder().optR(4).optLoraAlpha(8)
                        .optInitLoraWeights(InitLoraWeights.RANDOM).build(), 5L);
                NDArray x = m.randomNormal(new Shape(1, 3, in));
                float[] libtorch = lora.forward(x).toFloatArray(); // outside inference: dequantize + libtorch
                long calls = DecodeKernels.calls();
                float[] decoded;
                try (Inference.Scope s = Inference.enter()) {
                    decoded = lora.forward(x).toFloatArray();
                }
                assertTrue(DecodeKernels.calls() > calls, "the base took the decode path");
                float max = 0f;
                for (float v : libtorch) {
                    max = Math.max(max, Math.abs(v));
                }
                for (int i = 0; i < libtorch.length; i++) {
                    assertTrue(Math.abs(libtorch[i] - decoded[i]) <= 1e-5f * max + 1e-6f, i + ": " + decoded[i]
                            + " vs " + libtorch[i]);
                }
            }
        }
    }
}
