package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.peft4j.lora.InitLoraWeights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One named LoRA adapter inside a {@code LoraLinear}: A {@code [r, in]}, B {@code [out, r]}, the variant
 * ({@link LoraVariant}) and its optional magnitude {@code [out]}. Immutable: whether it is active or merged is
 * the layer's state, not the slot's. The arrays are trainable and updated in place by the optimizer; the slot
 * owns them and {@link #close()} frees them.
 *
 * <pre>{@code
 * LoraSlot s = LoraSlot.create("default", spec, variant, () -> base.denseWeight(m), 42L, m);
 * NDArray delta = s.loraOut(x);            // B(A(x))·scale
 * s.weights().keySet();                    // lora_A.weight, lora_B.weight[, lora_magnitude_vector]
 * }</pre>
 */
public final class LoraSlot implements AutoCloseable {
    private final String name;
    private final LoraVariant variant;
    private final float dropout;
    private final NDArray a;          // [r, in]
    private final NDArray b;          // [out, r]
    /**
     * {@code scale} as a natively allocated 0-d array kept for the slot's lifetime. Never multiply by a Java
     * number on the autograd path: DJL wraps it in a temporary array aliasing a direct buffer and closes it right
     * after the op, while autograd keeps the tensor for backward; once GC frees the buffer, gradients read freed
     * memory (seen as intermittent NaN/Inf gradients).
     */
    private final NDArray scaleArray; // []
    private final float scale;        // the value of scaleArray, for Java-array kernels (LoraRows)
    private final NDArray magnitude;  // [out] (DoRA) or null

    private LoraSlot(String name, LoraVariant variant, double dropout, NDArray a, NDArray b, NDArray scaleArray,
                     float scale, NDArray magnitude) {
        this.name = name;
        this.variant = variant;
        this.dropout = (float) dropout;
        this.a = a;
        this.b = b;
        this.scaleArray = scaleArray;
        this.scale = scale;
        this.magnitude = magnitude;
    }

    /** Rank, scale, dropout and initialisation of a new slot (from {@code LoraConfig} for one module). */
    public record Spec(int r, double scale, double dropout, long in, long out, InitLoraWeights init) {
    }

    /**
     * Initialises A and B as PEFT does for {@code spec.init()} ({@code seed} makes it reproducible) and the
     * variant's magnitude from {@code weight}, the layer's current effective weight {@code [out, in]}.
     */
    public static LoraSlot create(String name, Spec spec, LoraVariant variant, Supplier<NDArray> weight, long seed,
                                  NDManager manager) {
        int r = spec.r();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(r * spec.in())];
        float[] b = new float[Math.toIntExact(spec.out() * r)];
        if (spec.init() == InitLoraWeights.GAUSSIAN) {
            Random g = new Random(rnd.nextLong());
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (g.nextGaussian() / r);
            }
        } else {
            // nn.init.kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            kaimingUniform(a, spec.in(), rnd);
            if (spec.init() == InitLoraWeights.RANDOM) {
                kaimingUniform(b, r, rnd);
            }
        }
        NDArray aa = keep(manager.create(a, new Shape(r, spec.in())));
        NDArray bb = keep(manager.create(b, new Shape(spec.out(), r)));
        NDArray scale = keep(manager.full(new Shape(), (float) spec.scale(), aa.getDataType()));
        NDArray mag;
        try (NDScope scope = new NDScope()) {
            mag = variant.initialMagnitude(weight, () -> bb.matMul(aa).mul(scale));
            if (mag != null) {
                keep(mag).attach(manager);
            }
        }
        aa.setRequiresGradient(true);
        bb.setRequiresGradient(true);
        if (mag != null) {
            mag.setRequiresGradient(true);
        }
        return new LoraSlot(name, variant, spec.dropout(), aa, bb, scale, (float) spec.scale(), mag);
    }

    private static void kaimingUniform(float[] w, long fanIn, SplittableRandom rnd) {
        double bound = 1.0 / Math.sqrt(fanIn);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
    }

    /** Takes {@code arr} out of the current {@link NDScope}, so it outlives the scope. */
    public static NDArray keep(NDArray arr) {
        NDScope.unregister(arr);
        return arr;
    }

    public String name() {
        return name;
    }

    public LoraVariant variant() {
        return variant;
    }

    /** The scale ({@code alpha / r}, or {@code alpha / √r} with rsLoRA) as a Java number: constant per slot. */
    public float scale() {
        return scale;
    }

    /** Whether {@link #drop} changes its input when {@code training}: dropout {@code > 0} while training. */
    public boolean dropsOut(boolean training) {
        return training && dropout > 0;
    }

    /** A {@code [r, in]}, live (updated in place by the optimizer and by loads). */
    NDArray a() {
        return a;
    }

    /** B {@code [out, r]}, live (updated in place by the optimizer and by loads). */
    NDArray b() {
        return b;
    }

    /** DoRA's magnitude {@code [out]}, or {@code null} for plain LoRA. */
    public NDArray magnitude() {
        return magnitude;
    }

    /** Dropout on the adapter input while training (identity otherwise). */
    public NDArray drop(NDArray x, boolean training) {
        if (!dropsOut(training)) {
            return x;
        }
        // inverted dropout from the engine RNG (seeded per step by the Trainer): keep with 1 - p, scale by 1/(1 - p).
        // Built from tensor ops rather than DJL's Dropout, which showed native memory growth over 500 steps.
        NDArray keep = x.getManager().randomUniform(0f, 1f, x.getShape()).gte(dropout)
                .toType(DataType.FLOAT32, false).div(1 - dropout);
        return x.mul(keep);
    }

    /** {@code B(A(x)) · scale}: {@code [..., in]} to {@code [..., out]}. */
    public NDArray loraOut(NDArray x) {
        NDArray h = Linear.linear(x, a).singletonOrThrow();
        return Linear.linear(h, b).singletonOrThrow().mul(scaleArray);
    }

    /** ΔW = scale · B·A {@code [out, in]}. */
    public NDArray deltaWeight() {
        return b.matMul(a).mul(scaleArray);
    }

    /** The live trainable arrays under PEFT's names: {@code lora_A.weight}, {@code lora_B.weight}[, magnitude]. */
    public Map<String, NDArray> weights() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("lora_A.weight", a);
        out.put("lora_B.weight", b);
        if (magnitude != null) {
            out.put("lora_magnitude_vector", magnitude);
        }
        return out;
    }

    public long parameterCount() {
        return a.size() + b.size() + (magnitude == null ? 0 : magnitude.size());
    }

    /** Every array the slot owns (what {@link #close()} frees). */
    public List<NDArray> arrays() {
        List<NDArray> out = new ArrayList<>(List.of(a, b, scaleArray));
        if (magnitude != null) {
            out.add(magnitude);
        }
        return out;
    }

    @Override
    public void close() {
        arrays().forEach(NDArray::close);
    }
}
