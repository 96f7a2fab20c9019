package io.peft4j.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;

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
        return training && dropout > 0 ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
    }

    /** {@code B(A(x)) · scale}: {@code [..., in]} to {@code [..., out]}. */
    NDArray loraOut(NDArray x) {
        NDArray h = Linear.linear(x, a).singletonOrThrow();
        return Linear.linear(h, b).singletonOrThrow().mul(scale);
    }

    /** ΔW = scale · B·A {@code [out, in]}. */
    NDArray deltaWeight() {
        return b.matMul(a).mul(scale);
    }

    long parameterCount() {
        return a.size() + b.size() + (magnitude == null ? 0 : magnitude.size());
    }

    @Override
    public void close() {
        a.close();
        b.close();
        if (magnitude != null) {
            magnitude.close();
        }
    }
}
