package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.HfFolderWriter;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.core.io.FiniteValues;
import io.peft4j.core.io.OutputFolder;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model whose adapters were merged ({@link PeftModel#mergeAndUnload()}) as a Hugging Face folder
 * ({@code config.json}, {@code model.safetensors} in F32, tokenizer, the {@link OutputFolder#MARKER} of a merge),
 * tensor by tensor and atomically; a NaN or infinite merged value aborts the write naming the tensor. Projections
 * are read through {@link LinearLayer#denseWeight}, so a quantized base comes out dequantized + merged.
 *
 * <pre>{@code
 * PeftModel peft = PeftModel.wrap(model);
 * peft.loadAdapter(adapterDir, "default");
 * MergedModelWriter.write(peft.mergeAndUnload(), tokenizer, Path.of("merged"), peft.fingerprint());
 * }</pre>
 *
 * @since 0.1.0
 */
public final class MergedModelWriter {
    /** The {@link OutputFolder#MARKER} kind of a merged model folder. */
    public static final String WRITTEN_BY = "merge";

    private MergedModelWriter() {
    }

    /** The tensor as F32 data; a NaN/Inf value aborts the write (the old folder is kept). */
    private static TensorData finite(String name, float[] values, long... shape) throws IOException {
        String bad = FiniteValues.describe(name, values);
        if (bad != null) {
            throw new IOException("merged " + bad + ": refusing to write a NaN/Inf model");
        }
        return TensorData.f32(values, shape);
    }

    /**
     * Writes {@code model} into {@code dir} (replaced whole); {@code lm_head} is left out when embeddings are tied,
     * which is refused ({@link IllegalStateException}) when lm_head was changed apart from the embedding.
     */
    public static void write(CausalLM model, Tokenizer tokenizer, Path dir, String fingerprint) throws IOException {
        if (model.config().tieWordEmbeddings() && !model.linearLayers().get("lm_head")
                .tiedTo(model.otherWeights().get("model.embed_tokens.weight"))) {
            throw new IllegalStateException("lm_head no longer equals the tied embedding (LoRA or a modules_to_save "
                    + "copy on lm_head); a tied Hugging Face folder would drop it");
        }
        Map<String, NDArray> plain = new LinkedHashMap<>(model.otherWeights());
        Map<String, LinearLayer> linears = new LinkedHashMap<>();
        model.linearLayers().forEach((path, layer) -> {
            if (!(path.equals("lm_head") && model.config().tieWordEmbeddings())) {
                linears.put(path + ".weight", layer);
                if (layer.bias() != null) {
                    plain.put(path + ".bias", layer.bias());
                }
            }
        });
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        plain.forEach((k, v) -> entries.add(new SafetensorsWriter.Entry(k, "F32", v.getShape().getShape())));
        linears.forEach((k, l) -> entries.add(new SafetensorsWriter.Entry(k, "F32",
                new long[] {l.outFeatures(), l.inFeatures()})));
        try (NDManager m = model.manager().newSubManager()) {
            HfFolderWriter.write(dir, model.config().toHfConfig(), entries, name -> {
                LinearLayer l = linears.get(name);
                if (l == null) {
                    NDArray a = plain.get(name);
                    return finite(name, a.toFloatArray(), a.getShape().getShape());
                }
                try (NDArray w = l.denseWeight(m)) {
                    return finite(name, w.toFloatArray(), l.outFeatures(), l.inFeatures());
                }
            }, tokenizer, Map.of("format", "pt", "peft4j.merged_from_fingerprint", fingerprint), WRITTEN_BY);
        }
    }
}
