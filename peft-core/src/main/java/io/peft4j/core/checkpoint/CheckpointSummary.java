package io.peft4j.core.checkpoint;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.ModelConfig;

import java.util.Map;
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
 * @param chatTemplate whether a chat template ships with the tokenizer
 * @param loadMillis  time to read (dequantize) every tensor to fp32
 */
public record CheckpointSummary(ModelConfig config, String format, long parameters, int tensors,
                                Map<String, Integer> dtypes, long storedBytes, boolean chatTemplate,
                                long loadMillis) {

    /** Bytes of stored tensor data per parameter. */
    public double bytesPerParam() {
        return parameters == 0 ? 0 : (double) storedBytes / parameters;
    }

    /** Reads (and so validates) every tensor of {@code checkpoint}. */
    public static CheckpointSummary read(Checkpoint checkpoint) throws CheckpointFormatException {
        TensorSource t = checkpoint.tensors();
        Map<String, Integer> dtypes = new TreeMap<>();
        long params = 0;
        long bytes = 0;
        long start = System.nanoTime();
        for (String name : t.names()) {
            long n = 1;
            for (long d : t.shape(name)) {
                n = Math.multiplyExact(n, d);
            }
            params += n;
            bytes += t.storedBytes(name);
            dtypes.merge(t.dtype(name), 1, Integer::sum);
            float[] values = t.readFloats(name);
            if (values.length != n) {
                throw new CheckpointFormatException(t.path(), name, "read " + values.length + " values, expected " + n);
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        return new CheckpointSummary(checkpoint.config(), checkpoint.format(), params, t.names().size(), dtypes, bytes,
                checkpoint.chatTemplate().isPresent(), ms);
    }
}
