package io.peft4j.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A training loss that a model can compute without ever materialising the logits {@code [B, T, vocab]}: the summed
 * next-token cross-entropy {@code Σ_p −log softmax(logits_p)[target_p]} over chosen positions {@code p}, divided
 * by a 0-d {@code divisor} (e.g. the trained tokens of the step). As a plain {@code Function} of the logits it is
 * the ordinary loss (what evaluation and models without a fused head use). A model that knows its head (final norm
 * + lm_head) calls {@link #backwardFused} instead: only the rows of the scored positions go through the head, in
 * chunks of {@link #chunkSize()} rows, each chunk's loss is back-propagated on its own with its gradient written by
 * hand (so at most {@code chunkSize × vocab} logits and their gradient exist at a time), and the accumulated
 * gradient at the hidden rows is then back-propagated once through the rest of the model. Loss and gradients equal
 * the unfused path up to float summation order; positions whose label is ignored cost no head work at all.
 *
 * <pre>{@code
 * long[] positions = {1, 2, 7};          // flat indices b·T + t into [B, T] whose output is scored
 * long[] targets = {42, 7, 99};          // the token each of them should predict
 * NDArray tokens = manager.full(new Shape(), 3f, DataType.FLOAT32);   // native divisor (never a Java number)
 * TokenCrossEntropy loss = new TokenCrossEntropy(positions, targets, tokens, 128);
 * float value = model.backward(ids, mask, loss, false, seed);       // fused when the model supports it
 * }</pre>
 * Immutable; the divisor array is owned by the caller and must outlive the backward.
 *
 * @since 0.1.0
 */
public final class TokenCrossEntropy implements Function<NDArray, NDArray> {
    /**
     * Rows per head chunk when none is given. Each chunk streams the whole head weight (SmolLM2: 113 MB) through the
     * GEMM again, so small chunks cost step time; each holds one {@code [rows, vocab]} array (the logits, turned
     * into their gradient in place), so large ones cost memory: 512 × 49152 fp32 logits are 100 MB. Against 128-row
     * chunks, 512 rows made a SmolLM2 batch 4 × 256 step 4-5 % faster (docs/djl-notes.md).
     */
    public static final int DEFAULT_CHUNK = 512;
    /** Rows of a chunk's softmax computed at once before it is copied over the logits (64 × 49152 fp32: 12.6 MB). */
    private static final int SOFTMAX_ROWS = 64;

    private final long[] positions;
    private final long[] targets;
    private final NDArray divisor;
    private final int chunkSize;
    private final long maxTarget;

    /**
     * @param positions flat indices {@code b·T + t} of the scored positions, each at most once
     * @param targets   the target token of each position (same length)
     * @param divisor   0-d fp32 array the summed loss is divided by (natively allocated: a Java-number operand on
     *                  the autograd path can give NaN gradients in DJL)
     * @param chunkSize head rows per chunk; 0 computes full logits ({@link #apply}) even where a fused head exists
     */
    public TokenCrossEntropy(long[] positions, long[] targets, NDArray divisor, int chunkSize) {
        if (positions.length != targets.length) {
            throw new IllegalArgumentException(positions.length + " positions but " + targets.length + " targets");
        }
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunk size must be >= 0, got " + chunkSize);
        }
        long max = -1;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] < 0 || positions[i] < 0) {
                throw new IllegalArgumentException("negative position or target at " + i + ": " + positions[i]
                        + " -> " + targets[i]);
            }
            max = Math.max(max, targets[i]);
        }
        this.positions = positions.clone();
        this.targets = targets.clone();
        this.divisor = divisor;
        this.chunkSize = chunkSize;
        this.maxTarget = max;
    }

    /** Scored positions (flat {@code b·T + t}); a copy. */
    public long[] positions() {
        return positions.clone();
    }

    /** Head rows per chunk; 0 means "always full logits". */
    public int chunkSize() {
        return chunkSize;
    }

    /** Whether a model should take {@link #backwardFused} (chunk size above 0). */
    public boolean fused() {
        return chunkSize > 0;
    }

    /**
     * The unfused loss from full {@code logits [B, T, vocab]}: a 0-d array. Computed exactly as before the fused
     * head existed (log-softmax over every position, then the scored ones picked by a 0/1 weight), so evaluation
     * losses and a {@code chunkSize} of 0 reproduce that path.
     */
    @Override
    public NDArray apply(NDArray logits) {
        long vocab = logits.getShape().get(logits.getShape().dimension() - 1);
        checkVocab(vocab);
        int rows = Math.toIntExact(logits.size() / vocab);
        long[] target = new long[rows];
        float[] weight = new float[rows];
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] >= rows) {
                throw new IllegalArgumentException("position " + positions[i] + " outside " + rows + " positions");
            }
            target[(int) positions[i]] = targets[i];
            weight[(int) positions[i]] = 1f;
        }
        NDManager m = logits.getManager();
        NDArray logp = logits.reshape(-1, vocab).logSoftmax(-1);
        NDArray picked = logp.gather(m.create(target, new Shape(rows, 1)), 1).reshape(-1);
        return picked.mul(m.create(weight, new Shape(rows))).sum().neg().div(divisor);
    }

    /**
     * Back-propagates this loss through {@code head} and then {@code hidden}, inside {@code gc}, and returns its
     * value. {@code hidden [B, T, H]} is the head's input on the model's graph (the last decoder layer's output);
     * {@code head} maps rows {@code [n, H]} to logits {@code [n, vocab]} (final norm, lm_head). Every intermediate
     * is freed before return; parameter gradients accumulate.
     */
    public float backwardFused(GradientCollector gc, NDArray hidden, UnaryOperator<NDArray> head) {
        long h = hidden.getShape().get(hidden.getShape().dimension() - 1);
        NDArray flat = hidden.reshape(-1, h);
        if (positions.length == 0) {            // nothing scored: a zero loss whose gradient reaches every leaf
            try (NDScope scope = new NDScope()) {
                gc.backward(flat.sum().mul(divisor.zerosLike()));
            }
            return 0f;
        }
        NDArray selected = flat.get(flat.getManager().create(positions));       // [N, H], on the graph
        NDArray leaf = selected.stopGradient();
        leaf.setRequiresGradient(true);
        double value = 0;
        for (int from = 0; from < positions.length; from += chunkSize) {
            int to = Math.min(positions.length, from + chunkSize);
            try (NDScope scope = new NDScope()) {
                NDArray logits = head.apply(leaf.get(new NDIndex("{}:{}", from, to)));
                checkVocab(logits.getShape().get(1));
                value += backwardChunk(logits, from, to);
            }
        }
        try (NDScope scope = new NDScope()) {
            gc.backward(selected.mul(leaf.getGradient()).sum());
        }
        leaf.close();
        return (float) value;
    }

    /**
     * The summed loss of rows {@code from..to} over their logits {@code [n, vocab]} (on the graph), back-propagated
     * with its gradient written by hand: {@code d/dlogits = (softmax − onehot(target)) / divisor}. Autograd's
     * log-softmax, gather and their backward would allocate four {@code [n, vocab]} arrays; this writes the softmax,
     * and then the gradient, over the logits' own storage (the head's backward reads only its inputs, never its
     * output), {@value #SOFTMAX_ROWS} rows at a time, so beside the logits only a small block is allocated. The
     * value is {@code Σ lse − logit[target]} with {@code lse = max − log(max softmax)}: exact, and never the log of
     * an underflowed probability.
     */
    private double backwardChunk(NDArray logits, int from, int to) {
        NDManager m = logits.getManager();
        int n = to - from;
        NDArray values = logits.stopGradient();                                      // same storage, off the graph
        NDArray target = m.create(java.util.Arrays.copyOfRange(targets, from, to), new Shape(n, 1));
        NDArray maxLogit = values.max(new int[] {1});                                // [n]
        NDArray targetLogit = values.gather(target, 1).reshape(-1);
        for (int a = 0; a < n; a += SOFTMAX_ROWS) {                                  // the softmax, in place
            NDIndex rows = new NDIndex("{}:{}", a, Math.min(n, a + SOFTMAX_ROWS));
            try (NDArray p = values.get(rows).softmax(-1)) {
                values.set(rows, p);
            }
        }
        NDArray maxProb = values.max(new int[] {1});
        NDArray rowLoss = maxLogit.sub(maxProb.log()).sub(targetLogit);              // lse − logit[target]
        NDArray targetProb = values.gather(target, 1).reshape(-1);
        values.set(new NDIndex("{}, {}", m.arange(0, n, 1, DataType.INT64), target.reshape(-1)), targetProb.sub(1f));
        values.divi(divisor);
        JniUtils.backward((PtNDArray) logits, (PtNDArray) values, false, false);
        return rowLoss.sum().div(divisor).getFloat();
    }

    private void checkVocab(long vocab) {
        if (maxTarget >= vocab) {
            throw new IllegalArgumentException("label " + maxTarget + " outside vocabulary of " + vocab);
        }
    }
}
