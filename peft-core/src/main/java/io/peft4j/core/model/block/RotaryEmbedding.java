package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.ModelConfig;

/**
 * Rotary position embeddings (RoFormer, arXiv 2104.09864) in Hugging Face's "rotate half" layout, with the
 * {@code linear} and {@code llama3} frequency scalings of transformers' {@code modeling_rope_utils}.
 * Frequencies are computed in fp32 as transformers does, so positions map to the same angles.
 *
 * @since 0.1.0
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final float[] invFreq; // [headDim / 2]

    public RotaryEmbedding(ModelConfig config) {
        this.headDim = config.headDim();
        this.invFreq = inverseFrequencies(config.headDim(), config.ropeTheta(), config.ropeScaling());
    }

    /** {@code 1 / theta^(2i/dim)} for {@code i < dim/2}, then scaled as {@code scaling.type()} asks. */
    public static float[] inverseFrequencies(int dim, double theta, ModelConfig.RopeScaling scaling) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            inv[i] = 1.0f / (float) Math.pow(theta, exponent);
        }
        switch (scaling.type()) {
            case "none", "default" -> {
                return inv;
            }
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = (float) (inv[i] / scaling.factor());
                }
                return inv;
            }
            case "llama3" -> {
                return llama3(inv, scaling);
            }
            default -> throw new IllegalArgumentException("unsupported rope_scaling type '" + scaling.type()
                    + "' (supported: linear, llama3)");
        }
    }

    /** transformers' {@code _compute_llama3_parameters}: long wavelengths slowed by {@code factor}, smooth band between. */
    private static float[] llama3(float[] inv, ModelConfig.RopeScaling s) {
        double oldContext = s.originalMaxPositions();
        double lowWavelen = oldContext / s.lowFreqFactor();
        double highWavelen = oldContext / s.highFreqFactor();
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowWavelen ? inv[i] / s.factor() : inv[i];
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium) {
                double smooth = (oldContext / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
            }
            out[i] = (float) scaled;
        }
        return out;
    }

    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /**
     * Rotation tables for {@code positions [B][T]}: {@code cos [B, T, 1, D]} and the sign-folded
     * {@code sin [B, T, 1, D]} ({@code -sin} on the first half, {@code +sin} on the second), both times {@code scale}.
     */
    public Tables tables(int[][] positions, float scale, NDManager manager) {
        int b = positions.length;
        int t = positions[0].length;
        float[] cos = new float[b * t * headDim];
        float[] sin = new float[b * t * headDim];
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < t; p++) {
                row(positions[r][p], scale, cos, sin, (r * t + p) * headDim);
            }
        }
        Shape shape = new Shape(b, t, 1, headDim);
        return new Tables(manager.create(cos, shape), manager.create(sin, shape));
    }

    /**
     * One position's tables into {@code cos} and {@code sinSigned} at {@code offset} ({@code D} values each, times
     * {@code scale}): what {@link #tables} holds for that position, for the fused decode path.
     */
    public void row(int position, float scale, float[] cos, float[] sinSigned, int offset) {
        int half = headDim / 2;
        float pos = position;
        for (int i = 0; i < half; i++) {
            float angle = pos * invFreq[i];
            float c = (float) Math.cos(angle) * scale;
            float s = (float) Math.sin(angle) * scale;
            cos[offset + i] = c;
            cos[offset + half + i] = c;
            sinSigned[offset + i] = -s;
            sinSigned[offset + half + i] = s;
        }
    }

    /**
     * Rotates {@code heads} vectors of {@code D} values in place, {@code x[at + h·D ..]}, by one position's tables
     * ({@link #row}, at {@code tableOffset}): {@code x·cos + swapHalves(x)·sinSigned}, as {@link #apply} on arrays.
     */
    public static void rotate(float[] x, int at, int heads, int headDim, float[] cos, float[] sinSigned,
                              int tableOffset) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = at + h * headDim;
            for (int i = 0; i < half; i++) {
                float lo = x[base + i];
                float hi = x[base + half + i];
                x[base + i] = lo * cos[tableOffset + i] + hi * sinSigned[tableOffset + i];
                x[base + half + i] = hi * cos[tableOffset + half + i] + lo * sinSigned[tableOffset + half + i];
            }
        }
    }

    /** Rotates {@code x [B, T, heads, D]}: {@code x·cos + swapHalves(x)·sinSigned} (equals HF's rotate_half form). */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sinSigned) {
        long half = x.getShape().get(3) / 2;
        NDArray swapped = x.get(new NDIndex("..., " + half + ":")).concat(x.get(new NDIndex("..., :" + half)), -1);
        return x.mul(cos).add(swapped.mul(sinSigned));
    }

    /**
     * Rotation tables of one forward call.
     *
     * @param cos       {@code [B, T, 1, D]}
     * @param sinSigned {@code [B, T, 1, D]}, {@code -sin} on the first half and {@code +sin} on the second
     */
    public record Tables(NDArray cos, NDArray sinSigned) {
        /** Both tables times {@code scale} (a 0-d or broadcastable array, or a number), as new arrays. */
        public Tables scaled(float scale) {
            return new Tables(cos.mul(scale), sinSigned.mul(scale));
        }
    }
}
