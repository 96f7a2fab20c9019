package io.peft4j.bench;

import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.CausalLM;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The serving case of {@code bench decode}: {@value #ROWS} rows decoding together, each through one of
 * {@value #ADAPTERS} LoRA adapters (r 16 on every linear layer, random A and B, rows assigned round-robin), against
 * one row through one adapter, on the model as loaded (quantized blocks: the fused decode path). Adapters are detached
 * afterwards. Medians after one warm-up.
 *
 * <pre>{@code
 * Map<String, Object> keys = new LinkedHashMap<>();
 * AdapterBatchDecode.measure(keys, model, promptIds, settings);   // adds the batch8_* keys
 * }</pre>
 */
final class AdapterBatchDecode {
    static final int ROWS = 8;
    static final int ADAPTERS = 4;

    private AdapterBatchDecode() {
    }

    /**
     * Adds {@code lora_decode_tokens_per_s} (one row, one adapter), {@code batch8_4adapters_decode_tokens_per_s} (all
     * rows' tokens per second) and their ratios to the single-stream base ({@code decode_tokens_per_s}, which must
     * already be in {@code r}) and to the one-adapter row.
     */
    static void measure(Map<String, Object> r, CausalLM model, int[] prompt, DecodeBenchmark.Settings s) {
        LoraConfig config = LoraConfig.builder().optR(16).optLoraAlpha(32).optTargetModules(TargetModules.ALL_LINEAR)
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
        try (PeftModel peft = PeftModel.wrap(model)) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < ADAPTERS; i++) {
                names.add("task" + i);
                peft.addAdapter(names.get(i), config, 100L + i);
            }
            List<String> rows = new ArrayList<>();
            int[][] prompts = new int[ROWS][];
            for (int i = 0; i < ROWS; i++) {
                rows.add(names.get(i % ADAPTERS));
                prompts[i] = prompt;
            }
            double one;
            try (MixedAdapterModel single = peft.withAdapter(names.get(0))) {
                one = DecodeBenchmark.run(single, new int[][] {prompt}, s).decodeTokensPerS();
            }
            double batch;
            try (MixedAdapterModel mixed = peft.withAdapters(rows)) {
                batch = DecodeBenchmark.run(mixed, prompts, s).decodeTokensPerS();
            }
            double base = (Double) r.get("decode_tokens_per_s");
            r.put("lora_decode_tokens_per_s", DecodeBenchmark.round(one));
            r.put("batch8_4adapters_decode_tokens_per_s", DecodeBenchmark.round(batch));
            r.put("ratio_batch8_vs_single", DecodeBenchmark.round(batch / base));
            r.put("ratio_batch8_vs_lora_single", DecodeBenchmark.round(batch / one));
        }
    }
}
