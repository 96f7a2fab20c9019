package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.HfFolderWriter;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.quant.internal.QuantizationConfigJson;
import io.peft4j.quant.internal.StoredLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Saves a model whose projections are {@link QuantizedLinear}s as a Hugging Face folder in the layout
 * transformers + bitsandbytes write for 4-bit weights (see {@code StoredLayout}): packed U8 codes, absmax,
 * quant maps, nested statistics and the {@code quant_state.bitsandbytes__nf4|fp4} JSON per weight, every other
 * tensor (embeddings, norms, dense projections, biases) as F32, and {@code config.json} with transformers'
 * {@code quantization_config}. Such a folder loads in Python with
 * {@code AutoModelForCausalLM.from_pretrained(dir)} and here with {@link QuantizedCheckpoints#open}. INT8 weights
 * are written in the same layout under {@code quant_state.peft4j__int8} with {@code quant_method: "peft4j"}: a
 * peft4j-only format (transformers has no blockwise-INT8 checkpoint format). The write is atomic (peft-core's
 * {@code AtomicFolder}: a crash leaves the old folder or the new one) and marks the folder as a quantize output. A tied {@code lm_head} is not written (as transformers does).
 *
 * <pre>{@code
 * QuantizingLinearFactory nf4 = new QuantizingLinearFactory(QuantConfig.nf4DoubleQuant());
 * try (CausalLM model = ModelFamilies.load(ckpt.config(), ckpt.tensors(), nf4, manager)) {
 *     QuantizedCheckpointWriter.Summary s = QuantizedCheckpointWriter.write(out, model, ckpt.tokenizer());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizedCheckpointWriter {
    private static final String LM_HEAD = "lm_head";

    /**
     * What was written.
     *
     * @param config              the (single) quantization config of the quantized projections
     * @param parameters          logical parameters over all tensors written (tied lm_head counted once)
     * @param storedBytes         bytes of all tensor data written
     * @param quantizedParameters parameters of the quantized projections
     * @param quantizedBytes      their codes + scales ({@link QuantizedTensor#storedBytes})
     */
    public record Summary(QuantConfig config, long parameters, long storedBytes, long quantizedParameters,
                          long quantizedBytes) {
        /** Bytes per parameter over the quantized weights only. */
        public double bytesPerParam() {
            return quantizedParameters == 0 ? 0 : (double) quantizedBytes / quantizedParameters;
        }

        /** Bytes per parameter over the whole model as written. */
        public double bytesPerParamAll() {
            return parameters == 0 ? 0 : (double) storedBytes / parameters;
        }
    }

    /** The {@code OutputFolder.MARKER} kind of a quantized model folder. */
    public static final String WRITTEN_BY = "quantize";

    private QuantizedCheckpointWriter() {
    }

    /**
     * Writes {@code model} to {@code dir} (replaced whole). Projections that are not {@link QuantizedLinear} are
     * written as their fp32 {@link LinearLayer#denseWeight} (adapters merged, if any).
     *
     * @throws IllegalArgumentException if no projection is quantized or they use different configs
     */
    public static Summary write(Path dir, CausalLM model, Tokenizer tokenizer) throws IOException {
        Plan plan = new Plan();
        model.otherWeights().forEach((name, a) -> plan.add(name, "F32", a.getShape().getShape(), m -> TensorData.of(a)));
        model.otherWeights().values().forEach(a -> plan.parameters += a.size());
        model.linearLayers().forEach((path, layer) -> {
            if (!(LM_HEAD.equals(path) && model.config().tieWordEmbeddings())) {
                plan.addLinear(path, layer);
            }
        });
        if (plan.config == null) {
            throw new IllegalArgumentException("no projection of the model is quantized: load it with a "
                    + "QuantizingLinearFactory before saving a quantized checkpoint");
        }
        ObjectNode configJson = model.config().toHfConfig();
        configJson.set("quantization_config", QuantizationConfigJson.of(plan.config, plan.denseLeaves));
        try (NDManager m = model.manager().newSubManager()) {
            HfFolderWriter.write(dir, configJson, new ArrayList<>(plan.entries.values()), name -> {
                try (NDManager step = m.newSubManager()) {
                    return plan.producers.get(name).apply(step);
                }
            }, tokenizer, Map.of("format", "pt"), WRITTEN_BY);
        }
        return new Summary(plan.config, plan.parameters, plan.storedBytes, plan.quantizedParameters,
                plan.quantizedBytes);
    }

    /** The tensors to write (header entries and a producer each), and the running counts. */
    private static final class Plan {
        final Map<String, SafetensorsWriter.Entry> entries = new LinkedHashMap<>();
        final Map<String, Function<NDManager, TensorData>> producers = new LinkedHashMap<>();
        final List<String> denseLeaves = new ArrayList<>();
        QuantConfig config;
        long parameters;
        long storedBytes;
        long quantizedParameters;
        long quantizedBytes;

        void addLinear(String path, LinearLayer layer) {
            parameters += layer.inFeatures() * layer.outFeatures();
            if (layer instanceof QuantizedLinear ql) {
                QuantizedTensor q = ql.quantizedWeight();
                if (config != null && !config.equals(q.config())) {
                    throw new IllegalArgumentException("projections use different quantization configs (" + config
                            + " and " + q.config() + " at " + path + "); one checkpoint holds one config");
                }
                config = q.config();
                quantizedParameters += q.numel();
                quantizedBytes += q.storedBytes();
                String weight = path + ".weight";
                StoredLayout.tensors(weight, q).forEach((name, d) -> add(name, d.dtype(), d.shape(),
                        m -> StoredLayout.tensors(weight, q).get(name)));
            } else {
                if (!LM_HEAD.equals(path)) {
                    denseLeaves.add(path.substring(path.lastIndexOf('.') + 1));
                }
                add(path + ".weight", "F32", new long[] {layer.outFeatures(), layer.inFeatures()},
                        m -> TensorData.of(layer.denseWeight(m)));
            }
            NDArray bias = layer.bias();
            if (bias != null) {
                parameters += bias.size();
                add(path + ".bias", "F32", bias.getShape().getShape(), m -> TensorData.of(bias));
            }
        }

        void add(String name, String dtype, long[] shape, Function<NDManager, TensorData> producer) {
            entries.put(name, new SafetensorsWriter.Entry(name, dtype, shape));
            producers.put(name, producer);
            long n = "U8".equals(dtype) ? 1 : 4;
            for (long d : shape) {
                n *= d;
            }
            storedBytes += n;
        }
    }
}
