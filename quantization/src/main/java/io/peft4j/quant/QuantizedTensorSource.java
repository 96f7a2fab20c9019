package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.quant.internal.QuantStateJson;
import io.peft4j.quant.internal.StoredLayout;
import io.peft4j.quant.internal.StoredReader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The logical view of a folder holding 4-bit weights in the transformers + bitsandbytes layout: each quantized
 * weight appears once under its own name with its logical shape, its dtype as {@code NF4}/{@code FP4}/{@code INT8},
 * {@link #storedBytes} counting the packed codes plus every companion tensor, and {@link #readFloats}/{@link #load}
 * returning the dequantized fp32 values (bitsandbytes' {@code dequantize_4bit}); the companion tensors
 * ({@code .absmax}, {@code .quant_map}, {@code .nested_*}, {@code .quant_state.*}) are hidden. Every other tensor
 * passes through. {@link #quantized} gives the stored state itself, which {@link StoredQuantLinearFactory} uses
 * to build layers without dequantizing. Closing closes the underlying source.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = QuantizedCheckpoints.open(Path.of("smollm2-nf4"))) {
 *     QuantizedTensorSource t = (QuantizedTensorSource) ckpt.tensors();
 *     QuantizedTensor q = t.quantized("model.layers.0.self_attn.q_proj.weight").orElseThrow();
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class QuantizedTensorSource implements TensorSource {
    private final TensorSource raw;
    private final Map<String, String> stateOf;   // weight -> its quant_state tensor
    private final List<String> names;
    private final Set<String> visible;
    private final Map<String, QuantStateJson.State> states = new ConcurrentHashMap<>();

    private QuantizedTensorSource(TensorSource raw, Map<String, String> stateOf) {
        this.raw = raw;
        this.stateOf = stateOf;
        Set<String> hidden = new HashSet<>(stateOf.values());
        for (String w : stateOf.keySet()) {
            StoredLayout.COMPANIONS.forEach(c -> hidden.add(w + c));
        }
        List<String> visible = new ArrayList<>();
        for (String n : raw.names()) {
            if (!hidden.contains(n)) {
                visible.add(n);
            }
        }
        this.names = List.copyOf(visible);
        this.visible = Set.copyOf(visible);
    }

    /** Wraps {@code raw} (taking ownership) when it holds quantized weights; otherwise empty and {@code raw} stays open. */
    public static Optional<QuantizedTensorSource> wrap(TensorSource raw) {
        Map<String, String> stateOf = StoredReader.quantizedWeights(raw);
        return stateOf.isEmpty() ? Optional.empty() : Optional.of(new QuantizedTensorSource(raw, stateOf));
    }

    /** Whether {@code name} is stored quantized. */
    public boolean isQuantized(String name) {
        return stateOf.containsKey(name);
    }

    /** Names of the quantized weights. */
    public Set<String> quantizedNames() {
        return stateOf.keySet();
    }

    /** The stored codes and scales of {@code name}, or empty if it is not stored quantized. */
    public Optional<QuantizedTensor> quantized(String name) throws CheckpointFormatException {
        String state = stateOf.get(name);
        return state == null ? Optional.empty() : Optional.of(StoredReader.read(raw, name, state));
    }

    /** The underlying tensors exactly as stored. */
    public TensorSource raw() {
        return raw;
    }

    @Override
    public Path path() {
        return raw.path();
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return visible.contains(name);
    }

    @Override
    public long[] shape(String name) {
        return stateOf.containsKey(name) ? state(name).shape().clone() : raw.shape(name);
    }

    @Override
    public String dtype(String name) {
        return stateOf.containsKey(name) ? state(name).quantType().toUpperCase(java.util.Locale.ROOT) : raw.dtype(name);
    }

    /** For a quantized weight: packed codes + absmax + codebooks + nested statistics + the state JSON. */
    @Override
    public long storedBytes(String name) {
        String state = stateOf.get(name);
        if (state == null) {
            return raw.storedBytes(name);
        }
        long bytes = raw.storedBytes(name) + raw.storedBytes(state);
        for (String c : StoredLayout.COMPANIONS) {
            if (raw.contains(name + c)) {
                bytes += raw.storedBytes(name + c);
            }
        }
        return bytes;
    }

    /** Dequantized fp32 values for a quantized weight (the reference codec), else as the underlying source. */
    @Override
    public float[] readFloats(String name) throws CheckpointFormatException {
        Optional<QuantizedTensor> q = quantized(name);
        return q.isPresent() ? Quantizer.dequantize(q.get()) : raw.readFloats(name);
    }

    @Override
    public NDArray load(String name, NDManager manager) throws CheckpointFormatException {
        if (!stateOf.containsKey(name)) {
            return raw.load(name, manager);
        }
        NDArray a = manager.create(readFloats(name), new Shape(shape(name)));
        a.setName(name);
        return a;
    }

    @Override
    public Map<String, String> metadata() {
        return raw.metadata();
    }

    private QuantStateJson.State state(String name) {
        return states.computeIfAbsent(name, n -> {
            try {
                return StoredReader.state(raw, stateOf.get(n));
            } catch (CheckpointFormatException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        });
    }

    @Override
    public void close() {
        raw.close();
    }
}
