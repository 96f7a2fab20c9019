package io.peft4j.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.LoraConfig;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantizingLinearFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * QLoRA at scale without a real big model ({@code peft4j bench train --synthetic NAME}): builds a model of a known
 * shape from seeded random weights, each projection quantized to NF4 (double quantization) as it is drawn, so the
 * model never exists in fp32 (embedding, norms and lm_head stay fp32, as transformers + bitsandbytes keep them);
 * then measures LoRA training on random tokens with {@link TrainBenchmark#run} and reports step time and peak RSS;
 * then, unless the peer is {@link PeerScript#NONE}, PEFT + bitsandbytes on the same shape, NF4 double quantization,
 * batch, seq, threads and checkpointing ({@code bench_peft.py --synthetic}), and the ratios.
 *
 * <pre>{@code
 * Map<String, Object> r = SyntheticTrainBenchmark.report("tinyllama-1.1b", loraR16AllLinear,
 *         new TrainBenchmark.Shapes(1, 512, 2, true), System.err::println);
 * }</pre>
 *
 * @since 0.1.0
 */
public final class SyntheticTrainBenchmark {
    /** Shapes that can be built, by name (smollm2-360m, tinyllama-1.1b). */
    public static final Map<String, ModelConfig> SHAPES = SyntheticWeights.SHAPES;

    private SyntheticTrainBenchmark() {
    }

    /**
     * Builds the {@code shape} model in NF4 and measures LoRA training with {@code config} at {@code s}; returns the
     * {@code --json} keys ({@code peak_rss_mb} is this process's VmHWM, model build included). No PEFT run.
     *
     * @throws IllegalArgumentException for an unknown shape name
     */
    public static Map<String, Object> report(String shape, LoraConfig config, TrainBenchmark.Shapes s,
                                             Consumer<String> status) throws Exception {
        return report(shape, config, s, PeerScript.NONE, status);
    }

    /**
     * {@link #report(String, LoraConfig, TrainBenchmark.Shapes, Consumer)}, then PEFT + bitsandbytes with
     * {@code peer}: {@code peft_step_s}, {@code peft_peak_rss_mb}, {@code peft_quantization}, {@code ratio_step_time}
     * and {@code ratio_peak_rss} when it ran.
     */
    public static Map<String, Object> report(String shape, LoraConfig config, TrainBenchmark.Shapes s,
                                             PeerScript peer, Consumer<String> status) throws Exception {
        ModelConfig c = shape(shape);
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "train");
        res.put("model", "synthetic:" + shape);
        status.accept("bench train: building " + shape + " (" + c.numLayers() + " layers, hidden " + c.hiddenSize()
                + ", vocab " + c.vocabSize() + ") with seeded random weights in NF4 ...");
        long t0 = System.nanoTime();
        QuantizingLinearFactory nf4 = new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant());
        try (NDManager m = Peft4j.newManager();
             LlamaModel model = LlamaModel.load(c, new SyntheticWeights(shape, c, 1234L), nf4, m)) {
            res.put("build_s", Math.round((System.nanoTime() - t0) / 1e6) / 1000.0);
            res.put("quantized_params", nf4.quantizedParameters());
            res.put("quantized_mb", nf4.quantizedBytes() >> 20);
            res.put("rss_after_build_mb", ProcessMemory.rssBytes().orElse(-1) >> 20);
            status.accept("bench train: QLoRA r=" + config.r() + " " + TrainBenchmark.describe(config.targetModules())
                    + ", batch " + s.batch() + ", seq " + s.seq() + ", checkpointing " + s.checkpointActivations()
                    + " ...");
            TrainBenchmark.Result r = TrainBenchmark.run(model, config, s,
                    TrainBenchmark.randomData(model, s.batch() * (s.steps() + 1), s.seq()));
            res.put("batch", s.batch());
            res.put("seq", s.seq());
            res.put("r", config.r());
            res.put("trainable_params", r.trainable());
            res.put("gradient_checkpointing", s.checkpointActivations());
            res.put("loss_chunk", s.lossChunk());
            res.put("step_s", Math.round(r.stepSeconds() * 1000) / 1000.0);
            res.put("tokens_per_s", Math.round(r.tokensPerS() * 1000) / 1000.0);
            res.put("peak_rss_mb", ProcessMemory.peakRssBytes().isPresent()
                    ? ProcessMemory.peakRssBytes().getAsLong() >> 20 : null);
            res.put("allocator", ProcessMemory.allocator());
        }
        Optional<JsonNode> ref = peer.run("bench_peft.py", peerArgs(shape, config, s), "bench train",
                "PEFT + bitsandbytes", status);
        if (ref.isPresent()) {
            JsonNode j = ref.get();
            double theirs = j.get("step_s").asDouble();
            res.put("peft_quantization", j.path("quantization").asText());
            res.put("peft_step_s", Math.round(theirs * 1000) / 1000.0);
            res.put("ratio_step_time", Math.round((Double) res.get("step_s") / theirs * 1000) / 1000.0);
            if (j.path("peak_rss_mb").isNumber()) {
                long theirRss = j.get("peak_rss_mb").asLong();
                res.put("peft_peak_rss_mb", theirRss);
                if (res.get("peak_rss_mb") instanceof Long ours) {
                    res.put("ratio_peak_rss", Math.round((double) ours / theirRss * 1000) / 1000.0);
                }
            }
        }
        return res;
    }

    /**
     * The shape called {@code name}.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    static ModelConfig shape(String name) {
        ModelConfig c = SHAPES.get(name);
        if (c == null) {
            throw new IllegalArgumentException("unknown --synthetic shape '" + name + "' (known: "
                    + String.join(", ", SHAPES.keySet()) + ")");
        }
        return c;
    }

    /** {@code bench_peft.py}'s arguments for the {@code shape} model with {@code config} at {@code s} (NF4). */
    static List<String> peerArgs(String shape, LoraConfig config, TrainBenchmark.Shapes s) {
        return TrainBenchmark.peerArgs(SyntheticWeights.peerArgs(shape, shape(shape)), config, s);
    }
}
