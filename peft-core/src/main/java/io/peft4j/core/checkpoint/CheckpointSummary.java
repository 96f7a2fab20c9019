package io.peft4j.core.checkpoint;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a checkpoint holds: shapes, parameter count, stored dtypes and bytes, and how long reading every weight as
 * fp32 took. Reading every tensor also proves the file is whole.
 *
 * <pre>{@code
 * CheckpointSummary s = CheckpointSummary.read(ckpt);
 * System.out.println(s.parameters() + " parameters, " + s.bytesPerParam() + " bytes/param");
 * }</pre>
 *
 * @param config      model shape
 * @param format      {@code gguf} or {@code safetensors}
 * @param parameters  elements over all tensors
 * @param tensors     tensor count
 * @param dtypes      stored dtype → tensor count
 * @param storedBytes bytes of tensor data as stored
 * @param quantizedParameters elements of the tensors stored in a quantized format (see {@link #isQuantized})
 * @param quantizedBytes      bytes those tensors occupy as stored (codes plus every scale and state they carry)
 * @param chatTemplate whether a chat template ships with the tokenizer
 * @param loadMillis  time to read (dequantize) every tensor to fp32
 *
 * @since 0.1.0
 */
public record CheckpointSummary(ModelConfig config, String format, long parameters, int tensors,
                                Map<String, Integer> dtypes, long storedBytes, long quantizedParameters,
                                long quantizedBytes, boolean chatTemplate, long loadMillis) {
    /** Stored dtypes that hold plain numbers, one per element (everything else is a quantized format). */
    private static final Set<String> PLAIN = Set.of("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "I64", "I32",
            "I16", "I8", "U64", "U32", "U16", "U8", "BOOL");

    /** Bytes of stored tensor data per parameter, over the whole model. */
    public double bytesPerParam() {
        return parameters == 0 ? 0 : (double) storedBytes / parameters;
    }

    /**
     * Bytes per parameter over the quantized weights only (bitsandbytes NF4/FP4/INT8, ggml Q4_1, ...), 0 when the
     * checkpoint holds none: 4-bit NF4 with double quantization at block 64 gives about 0.518.
     */
    public double bytesPerQuantizedParam() {
        return quantizedParameters == 0 ? 0 : (double) quantizedBytes / quantizedParameters;
    }

    /** Whether a stored dtype spelling ({@link TensorSource#dtype}) is a quantized format rather than plain numbers. */
    public static boolean isQuantized(String dtype) {
        return !PLAIN.contains(dtype.toUpperCase(Locale.ROOT));
    }

    /** Reads (and so validates) every tensor of {@code checkpoint}. */
    public static CheckpointSummary read(Checkpoint checkpoint) throws CheckpointFormatException {
        TensorSource t = checkpoint.tensors();
        Map<String, Integer> dtypes = new TreeMap<>();
        long params = 0;
        long bytes = 0;
        long qParams = 0;
        long qBytes = 0;
        long start = System.nanoTime();
        for (String name : t.names()) {
            long n = 1;
            for (long d : t.shape(name)) {
                n = Math.multiplyExact(n, d);
            }
            long stored = t.storedBytes(name);
            params += n;
            bytes += stored;
            if (isQuantized(t.dtype(name))) {
                qParams += n;
                qBytes += stored;
            }
            dtypes.merge(t.dtype(name), 1, Integer::sum);
            float[] values = t.readFloats(name);
            if (values.length != n) {
                throw new CheckpointFormatException(t.path(), name, "read " + values.length + " values, expected " + n);
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        return new CheckpointSummary(checkpoint.config(), checkpoint.format(), params, t.names().size(), dtypes, bytes,
                qParams, qBytes, checkpoint.chatTemplate().isPresent(), ms);
    }
}
