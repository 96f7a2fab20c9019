package io.peft4j.cli;

import io.peft4j.core.AdapterMismatchException;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.adapter.AdapterMethod;
import io.peft4j.core.adapter.AdapterSummary;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.checkpoint.CheckpointSummary;
import io.peft4j.core.checkpoint.SafetensorsReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j inspect --model PATH}: shape, parameter count, dtypes and load time of a checkpoint. Bytes per
 * parameter twice: {@code bytes_per_param} (= {@code bytes_per_param_all}) over the whole model, and
 * {@code bytes_per_param_quantized} over the weights stored quantized ({@code quantized_parameters} of them; 0 when
 * none), e.g. the NF4 weights of a folder written by {@code peft4j quantize}.
 * {@code peft4j inspect --adapter DIR [--model PATH]}: method, settings, tensors, parameters, bytes, base fingerprint
 * and provenance (peft4j version, method, seed, steps, data SHA-256, template; {@code null} for adapters peft4j did
 * not train) of an adapter, after the checks {@code generate --adapter} makes (against {@code --model} when given).
 */
@Command(name = "inspect", description = "Describe a model (GGUF file or Hugging Face folder) or a PEFT adapter folder.")
final class InspectCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", description = "A .gguf file or a Hugging Face model folder (dense or bitsandbytes "
            + "4-bit). With --adapter: the base to check the adapter against (shapes, fingerprint).")
    Path model;

    @Option(names = "--adapter", description = "A PEFT adapter folder (adapter_config.json + adapter_model.safetensors).")
    Path adapter;

    @Override
    public Integer call() throws Exception {
        if (model == null && adapter == null) {
            throw new IllegalArgumentException("give --model PATH or --adapter DIR (see peft4j inspect --help)");
        }
        return adapter != null ? inspectAdapter(adapter) : inspectModel(model);
    }

    /**
     * Describes the adapter after validating it as {@code generate --adapter} would: its tensors against its config
     * (pairs, ranks, DoRA magnitudes) and, with {@code --model}, loaded onto that base (shapes, fingerprint).
     */
    private int inspectAdapter(Path dir) throws Exception {
        long start = System.nanoTime();
        AdapterSummary s = AdapterSummary.read(dir);
        Path weights = dir.resolve("adapter_model.safetensors");
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            reader.names().forEach(n -> shapes.put(n, reader.shape(n)));
        }
        List<String> problems = AdapterMethod.forPeftType(s.config().peftType()).checkTensors(s.config(), shapes);
        if (!problems.isEmpty()) {
            throw new AdapterMismatchException(weights + ": tensors do not match adapter_config.json ("
                    + problems.size() + " problems): " + String.join("; ", problems.subList(0, Math.min(3,
                    problems.size()))) + (problems.size() > 3 ? "; ..." : ""));
        }
        if (model != null) {
            ModelOptions base = new ModelOptions();
            base.model = model;
            base.quantize = "none";
            base.adapter = dir;
            base.load(out, "inspect").close(); // loadAdapter checks shapes and the base fingerprint
            out.status("inspect: adapter fits " + model);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("peft_type", s.config().peftType());
        r.put("base_model_name_or_path", s.config().baseModelNameOrPath());
        r.putAll(s.settings());
        r.put("tensors", s.tensors());
        r.put("parameters", s.parameters());
        r.put("dtypes", s.dtypes());
        r.put("file_bytes", s.weightsBytes() + s.configBytes());
        r.put("weights_bytes", s.weightsBytes());
        r.put("base_fingerprint", s.baseFingerprint());
        r.put("provenance", s.provenance() == null ? null : s.provenance().toMap());
        r.put("checked_against_model", model != null);
        r.put("load_ms", (System.nanoTime() - start) / 1_000_000);
        out.print(r);
        return 0;
    }

    private int inspectModel(Path model) throws Exception {
        long start = System.nanoTime();
        out.status("inspect: reading every tensor of " + model + " ...");
        CheckpointSummary s;
        try (Checkpoint ckpt = Peft4jModel.openCheckpoint(model)) {
            s = CheckpointSummary.read(ckpt);
        }
        long loadMs = (System.nanoTime() - start) / 1_000_000;
        ModelConfig c = s.config();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("architecture", c.architecture());
        r.put("format", s.format());
        r.put("num_layers", c.numLayers());
        r.put("hidden_size", c.hiddenSize());
        r.put("intermediate_size", c.intermediateSize());
        r.put("num_heads", c.numHeads());
        r.put("num_kv_heads", c.numKvHeads());
        r.put("head_dim", c.headDim());
        r.put("vocab_size", c.vocabSize());
        r.put("tie_word_embeddings", c.tieWordEmbeddings());
        r.put("rope_theta", c.ropeTheta());
        r.put("parameters", s.parameters());
        r.put("tensors", s.tensors());
        r.put("dtypes", s.dtypes());
        r.put("bytes_per_param", Math.round(s.bytesPerParam() * 10000) / 10000.0);
        r.put("bytes_per_param_all", Math.round(s.bytesPerParam() * 10000) / 10000.0);
        r.put("quantized_parameters", s.quantizedParameters());
        r.put("bytes_per_param_quantized", Math.round(s.bytesPerQuantizedParam() * 10000) / 10000.0);
        r.put("chat_template", s.chatTemplate());
        r.put("load_ms", loadMs);
        out.print(r);
        return 0;
    }
}
