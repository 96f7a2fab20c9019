package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.ndarray.types.DataType;

import java.util.SplittableRandom;

/** One named LoRA adapter inside a {@link LoraLinear}: A {@code [r, in]}, B {@code [out, r]}, optional DoRA magnitude. */
final class LoraSlot implements AutoCloseable {
    final String name;
    final int r;
    final double scale;
    final float dropout;
    final boolean dora;
    final NDArray a;         // [r, in]
    final NDArray b;         // [out, r]
    /**
     * {@code scale} as a natively allocated 0-d array kept for the slot's lifetime. Never multiply by a Java
     * number on the autograd path: DJL wraps it in a temporary array aliasing a direct buffer and closes it right
     * after the op, while autograd keeps the tensor for backward; once GC frees the buffer, gradients read freed
     * memory (seen as intermittent NaN/Inf gradients).
     */
    final NDArray scaleArray; // []
    NDArray magnitude;       // [out] (DoRA) or null
    boolean active;
    boolean merged;

    LoraSlot(String name, int r, double scale, double dropout, boolean dora, NDArray a, NDArray b) {
        this.name = name;
        this.r = r;
        this.scale = scale;
        this.dropout = (float) dropout;
        this.dora = dora;
        this.a = a;
        this.b = b;
        this.scaleArray = keep(a.getManager().full(new Shape(), (float) scale, a.getDataType()));
    }

    /** Initialises A and B as PEFT does for {@code init}; {@code seed} makes it reproducible. */
    static LoraSlot create(String name, int r, double scale, double dropout, boolean dora, long in, long out,
                           InitLoraWeights init, long seed, NDManager manager) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(r * in)];
        float[] b = new float[Math.toIntExact(out * r)];
        if (init == InitLoraWeights.GAUSSIAN) {
            java.util.Random g = new java.util.Random(rnd.nextLong());
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (g.nextGaussian() / r);
            }
        } else {
            kaimingUniform(a, in, rnd); // nn.init.kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            if (init == InitLoraWeights.RANDOM) {
                kaimingUniform(b, r, rnd);
            }
        }
        NDArray aa = keep(manager.create(a, new Shape(r, in)));
        NDArray bb = keep(manager.create(b, new Shape(out, r)));
        aa.setRequiresGradient(true);
        bb.setRequiresGradient(true);
        return new LoraSlot(name, r, scale, dropout, dora, aa, bb);
    }

    private static void kaimingUniform(float[] w, long fanIn, SplittableRandom rnd) {
        double bound = 1.0 / Math.sqrt(fanIn);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
    }

    static NDArray keep(NDArray arr) {
        NDScope.unregister(arr);
        return arr;
    }

    /** Dropout on the adapter input while training (identity otherwise). */
    NDArray drop(NDArray x, boolean training) {
        if (!training || dropout <= 0) {
            return x;
        }
        // inverted dropout from the engine RNG (seeded per step by the Trainer): keep with 1 - p, scale by 1/(1 - p).
        // Built from tensor ops rather than DJL's Dropout, which showed native memory growth over 500 steps.
        NDArray keep = x.getManager().randomUniform(0f, 1f, x.getShape()).gte(dropout)
                .toType(DataType.FLOAT32, false).div(1 - dropout);
        return x.mul(keep);
    }

    /** {@code B(A(x)) · scale}: {@code [..., in]} to {@code [..., out]}. */
    NDArray loraOut(NDArray x) {
        NDArray h = Linear.linear(x, a).singletonOrThrow();
        return Linear.linear(h, b).singletonOrThrow().mul(scaleArray);
    }

    /** ΔW = scale · B·A {@code [out, in]}. */
    NDArray deltaWeight() {
        return b.matMul(a).mul(scaleArray);
    }

    long parameterCount() {
        return a.size() + b.size() + (magnitude == null ? 0 : magnitude.size());
    }

    @Override
    public void close() {
        a.close();
        b.close();
        scaleArray.close();
        if (magnitude != null) {
            magnitude.close();
        }
    }
}
