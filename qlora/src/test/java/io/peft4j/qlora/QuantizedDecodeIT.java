package io.peft4j.qlora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.AdapterRouting;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.core.model.llama.FusedDecode;
import io.peft4j.core.testing.TestResources;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import io.peft4j.quant.GgmlBlockLinear;
import io.peft4j.quant.GgufBlockLinearFactory;
import io.peft4j.quant.TiedBlockHead;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.quant.DecodeKernels;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quantized decode path on the real SmolLM2 Q4_1 GGUF: a model whose projections stay in their GGUF blocks
 * (decode steps multiply from the blocks with the SIMD kernel), its tied lm_head included (a {@link TiedBlockHead}
 * over the file's Q8_0 embedding blocks), generates exactly the fp32 model's greedy tokens for
 * the first {@value #TOKENS} tokens of every prompt, without and with a LoRA adapter (r=8 on all linear layers,
 * random non-zero B, the same seed on both): the dequantized weights are bit-identical and only the fp32 summation
 * order differs.
 */
class QuantizedDecodeIT {
    static final int TOKENS = 32;
    static final List<String> PROMPTS = List.of("The capital of France is", "def fibonacci(n):",
            "Once upon a time, in a small village,");

    @Test
    void greedyTokens_blockDecodeVsFp32_equalForBaseAndLora() throws Exception {
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel()); NDManager m = Peft4j.newManager();
             CausalLM dense = ModelFamilies.load(ckpt.config(), ckpt.tensors(), DenseLinearFactory.INSTANCE, m);
             CausalLM blocks = ModelFamilies.load(ckpt.config(), ckpt.tensors(), new GgufBlockLinearFactory(), m)) {
            assertTrue(blocks.linearLayers().get("model.layers.0.self_attn.q_proj") instanceof GgmlBlockLinear);
            assertTrue(blocks.linearLayers().get("lm_head") instanceof TiedBlockHead tied
                    && tied.type() == GgmlType.Q8_0 && tied.tiedTo(blocks.otherWeights().get(
                    "model.embed_tokens.weight")), "the tied head decodes from the file's Q8_0 embedding blocks");
            int[][] prompts = PROMPTS.stream().map(p -> ckpt.tokenizer().encode(p, true)).toArray(int[][]::new);
            long before = DecodeKernels.calls();
            long fused = FusedDecode.steps();
            int[][] base = greedy(dense, prompts);
            assertEquals(fused, FusedDecode.steps(), "fp32 layers have no row kernel: the general path");
            assertArrayEquals(base, greedy(blocks, prompts), "base model: block decode vs fp32");
            assertTrue(DecodeKernels.calls() - before > 100, "decode steps took the kernel path");
            assertEquals(fused + 3 * (TOKENS - 1), FusedDecode.steps(), "every block decode step was fused");

            LoraConfig lora = LoraConfig.builder().optR(8).optLoraAlpha(16).optInitLoraWeights(InitLoraWeights.RANDOM)
                    .optTargetModules(TargetModules.ALL_LINEAR).build();
            try (PeftModel pd = PeftModel.wrap(dense); PeftModel pb = PeftModel.wrap(blocks)) {
                pd.addAdapter("default", lora, 7L);
                pb.addAdapter("default", lora, 7L);
                int[][] adapted = greedy(pd.asCausalLM(), prompts);
                assertFalse(Arrays.deepEquals(base, adapted), "the adapter changes the tokens");
                fused = FusedDecode.steps();
                assertArrayEquals(adapted, greedy(pb.asCausalLM(), prompts), "LoRA: block decode vs fp32");
                assertEquals(fused + 3 * (TOKENS - 1), FusedDecode.steps(), "LoRA layers decode through row kernels");

                // one left-padded batch, a different adapter per row (PEFT's adapter_names), fused with B = 3
                pd.addAdapter("other", lora, 11L);
                pb.addAdapter("other", lora, 11L);
                List<String> rows = List.of("default", "other", AdapterRouting.BASE);
                int[][] mixed = batch(pd.withAdapters(rows), prompts);
                assertArrayEquals(adapted[0], mixed[0], "row 0 of the mixed batch is the default adapter's");
                assertArrayEquals(base[2], mixed[2], "row 2 of the mixed batch is the base model's");
                fused = FusedDecode.steps();
                assertArrayEquals(mixed, batch(pb.withAdapters(rows), prompts), "mixed batch: block decode vs fp32");
                assertEquals(fused + TOKENS - 1, FusedDecode.steps(), "the mixed batch decoded fused");
            }
        }
    }

    private static int[][] batch(MixedAdapterModel model, int[][] prompts) {
        try (model) {
            GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(TOKENS).optEosTokenIds(List.of(-1))
                    .build();
            return new Generator(model).generateIds(prompts, greedy, TokenListener.NONE).tokens()
                    .toArray(int[][]::new);
        }
    }

    private static int[][] greedy(CausalLM model, int[][] prompts) {
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(TOKENS).optEosTokenIds(List.of(-1))
                .build();
        Generator g = new Generator(model);
        int[][] out = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            out[i] = g.generateIds(new int[][] {prompts[i]}, greedy, TokenListener.NONE).tokens().get(0);
        }
        return out;
    }
}
