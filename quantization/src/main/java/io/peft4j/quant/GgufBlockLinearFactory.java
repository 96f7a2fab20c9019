package io.peft4j.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.core.checkpoint.gguf.GgmlType;
import io.peft4j.core.checkpoint.gguf.GgufFile;
import io.peft4j.core.checkpoint.gguf.GgufNames;
import io.peft4j.core.checkpoint.gguf.GgufTensorInfo;
import io.peft4j.core.checkpoint.gguf.GgufTensorSource;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.TokenEmbedding;
import io.peft4j.quant.internal.kernel.MatVec;
import io.peft4j.quant.internal.kernel.Q8Blocks;
import io.peft4j.quant.internal.kernel.QuantMatrix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loads the projections of a GGUF model that are stored as Q4_0, Q4_1 or Q8_0 blocks as {@link GgmlBlockLinear}s
 * over a heap copy of exactly those blocks (no fp32 copy of the weight at any point), so decode reads 0.56–1.06
 * bytes per parameter instead of 4; LLaMA q/k projections get their rows un-permuted block row by block row, as
 * {@link GgufTensorSource} does for fp32. Any other projection (another source, another ggml type) goes through
 * {@link DenseLinearFactory}. Which arithmetic a forward uses (SIMD matrix-vector from the blocks for a few rows at
 * inference, dequantize + libtorch GEMM otherwise) is chosen per call by batch size; the kernel is logged once at
 * INFO. Thread-safe counters.
 *
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoints.open(Path.of("SmolLM2-135M-Instruct.Q4_1.gguf"))) {
 *     CausalLM m = ModelFamilies.load(ckpt.config(), ckpt.tensors(), new GgufBlockLinearFactory(), manager);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufBlockLinearFactory implements LinearLayerFactory {
    /** The block types kept as blocks. */
    public static final Set<GgmlType> TYPES = EnumSet.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0);
    /** GGUF architectures whose converter permutes q/k rows (as {@link GgufTensorSource} knows them). */
    private static final Set<String> PERMUTED_ARCHS = Set.of("llama", "mistral");
    private static final Logger LOG = LoggerFactory.getLogger(GgufBlockLinearFactory.class);

    private final AtomicLong parameters = new AtomicLong();
    private final AtomicLong storedBytes = new AtomicLong();

    @Override
    public LinearLayer create(String modulePath, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        String name = modulePath + ".weight";
        Optional<GgufTensorInfo> info = blocks(weights, name);
        if (info.isEmpty()) {
            return DenseLinearFactory.INSTANCE.create(modulePath, weights, manager);
        }
        GgufTensorSource gguf = (GgufTensorSource) weights;
        GgufTensorInfo t = info.get();
        long[] shape = t.shape();
        byte[] data = read(gguf, t);
        unpermute(gguf.file(), t, data);
        NDArray bias = null;
        if (weights.contains(modulePath + ".bias")) {
            bias = weights.load(modulePath + ".bias", manager);
        }
        try {
            GgmlBlockLinear layer = new GgmlBlockLinear(name, t.type(), shape, data, bias);
            parameters.addAndGet(shape[0] * shape[1]);
            storedBytes.addAndGet(layer.storedBytes());
            LOG.debug("kept {} {} as {} blocks ({} bytes); decode kernel {}", name, shape, t.type(),
                    layer.storedBytes(), MatVec.describe());
            return layer;
        } catch (IllegalArgumentException e) {
            if (bias != null) {
                bias.close();
            }
            throw new CheckpointFormatException(weights.path(), name, e.getMessage());
        }
    }

    /**
     * The token embedding: a GGUF file's Q4_0 / Q4_1 / Q8_0 {@code token_embd} stays in its blocks (a
     * {@link BlockTokenEmbedding}, which the tied head then shares) while the decode path is on; anything else loads
     * its fp32 table.
     */
    @Override
    public TokenEmbedding embedding(String name, TensorSource weights, NDManager manager)
            throws CheckpointFormatException {
        Optional<GgufTensorInfo> info = blocks(weights, name);
        if (info.isEmpty() || !MatVec.enabled()) {
            return LinearLayerFactory.super.embedding(name, weights, manager);
        }
        long[] shape = weights.shape(name);
        QuantMatrix.Ggml m = repack(weights, name, info.get(), read((GgufTensorSource) weights, info.get()));
        storedBytes.addAndGet(m.bytes());
        LOG.debug("kept {} {} as {} blocks ({} bytes) for lookups and the tied head", name, shape, m.type(),
                m.bytes());
        return new BlockTokenEmbedding(name, m, manager);
    }

    /**
     * The tied lm_head as a {@link TiedBlockHead}: the decode path multiplies from the embedding's own blocks (a
     * {@link BlockTokenEmbedding}), from the GGUF's blocks of it, or, for another embedding type, from the
     * embedding quantized to Q8_0 here; other forwards use the embedding's table. A
     * {@link io.peft4j.core.DenseLinear} on the table when the source is not a GGUF file or the decode path is off
     * ({@code -Dpeft4j.decode.kernel=off}).
     */
    @Override
    public LinearLayer tiedHead(String modulePath, String embeddingName, TensorSource weights,
                                TokenEmbedding embedding, NDManager manager) throws CheckpointFormatException {
        if (embedding instanceof BlockTokenEmbedding b) {
            return new TiedBlockHead(modulePath, b.blocks(), embedding);
        }
        long[] shape = {embedding.vocabSize(), embedding.hiddenSize()};
        if (!(weights instanceof GgufTensorSource gguf) || !MatVec.enabled() || shape[1] % Q8Blocks.BLOCK != 0) {
            return LinearLayerFactory.super.tiedHead(modulePath, embeddingName, weights, embedding, manager);
        }
        Optional<GgufTensorInfo> info = blocks(weights, embeddingName);
        QuantMatrix.Ggml m;
        if (info.isPresent() && Arrays.equals(info.get().shape(), shape)) {
            m = repack(weights, embeddingName, info.get(), read(gguf, info.get()));
        } else {
            m = quantizeQ8(embedding.table());
        }
        storedBytes.addAndGet(m.bytes());
        LOG.debug("tied {} decodes from {} {} blocks of {} ({} bytes)", modulePath, info.isPresent() ? "the file's"
                : "Q8_0-at-load", m.type(), embeddingName, m.bytes());
        return new TiedBlockHead(modulePath, m, embedding);
    }

    /** {@code data} (a GGUF tensor's blocks) as a kernel matrix; a malformed tensor is a format error naming it. */
    private static QuantMatrix.Ggml repack(TensorSource weights, String name, GgufTensorInfo t, byte[] data)
            throws CheckpointFormatException {
        try {
            return new QuantMatrix.Ggml(t.type(), Math.toIntExact(t.shape()[0]), Math.toIntExact(t.shape()[1]), data);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointFormatException(weights.path(), name, e.getMessage());
        }
    }

    /** The tensor's blocks as stored, copied out of the mapped file. */
    private static byte[] read(GgufTensorSource gguf, GgufTensorInfo t) throws CheckpointFormatException {
        ByteBuffer mapped = gguf.file().tensorData(t);
        byte[] data = new byte[mapped.remaining()];
        mapped.get(data);
        return data;
    }

    /** {@code embedding [rows, cols]} (cols a multiple of 32) as Q8_0 blocks, read 2,048 rows at a time. */
    private static QuantMatrix.Ggml quantizeQ8(NDArray embedding) {
        int rows = Math.toIntExact(embedding.getShape().get(0));
        int cols = Math.toIntExact(embedding.getShape().get(1));
        int rowBytes = cols / Q8Blocks.BLOCK * Q8Blocks.BYTES;
        byte[] data = new byte[Math.multiplyExact(rows, rowBytes)];
        for (int from = 0; from < rows; from += 2048) {
            int to = Math.min(rows, from + 2048);
            try (NDArray part = embedding.get(new NDIndex(from + ":" + to))) {
                Q8Blocks.quantize(part.toFloatArray(), 0, data, from * rowBytes, (to - from) * cols / Q8Blocks.BLOCK);
            }
        }
        return new QuantMatrix.Ggml(GgmlType.Q8_0, rows, cols, data);
    }

    /** The tensor info when {@code name} is a 2-d weight of a GGUF source stored in one of {@link #TYPES}. */
    static Optional<GgufTensorInfo> blocks(TensorSource weights, String name) {
        if (!(weights instanceof GgufTensorSource g) || !g.contains(name)) {
            return Optional.empty();
        }
        GgufTensorInfo t = g.info(name);
        return TYPES.contains(t.type()) && t.shape().length == 2 ? Optional.of(t) : Optional.empty();
    }

    /** Undoes llama.cpp's q/k row permutation on whole rows of blocks (see {@link GgufNames#unpermuteRows}). */
    private static void unpermute(GgufFile file, GgufTensorInfo t, byte[] data) throws CheckpointFormatException {
        String arch = file.getString("general.architecture").orElse("");
        Optional<String> proj = GgufNames.permutedProjection(t.name());
        if (!PERMUTED_ARCHS.contains(arch) || proj.isEmpty()) {
            return;
        }
        int nHead = file.getInt(arch + ".attention.head_count", 0);
        int heads = "q".equals(proj.get()) ? nHead : file.getInt(arch + ".attention.head_count_kv", nHead);
        int rows = Math.toIntExact(t.shape()[0]);
        int rowBytes = data.length / rows;
        if (heads <= 0 || rows % (2 * heads) != 0) {
            throw new CheckpointFormatException(file.path(), t.name(), "cannot undo the q/k row permutation: " + rows
                    + " rows are not a multiple of 2 x " + heads + " heads");
        }
        int hd = rows / heads;
        int half = hd / 2;
        byte[] head = new byte[hd * rowBytes];
        for (int h = 0; h < heads; h++) {
            System.arraycopy(data, h * hd * rowBytes, head, 0, head.length);
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    System.arraycopy(head, (2 * i + j) * rowBytes, data, (h * hd + j * half + i) * rowBytes, rowBytes);
                }
            }
        }
    }

    /** Parameters kept as blocks so far. */
    public long blockParameters() {
        return parameters.get();
    }

    /** Bytes of the blocks kept so far. */
    public long blockBytes() {
        return storedBytes.get();
    }
}
