package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Peft4j;
import io.peft4j.core.decode.DecodeMath;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GroupedQueryAttention#attendRows} (Java loops over cache buffers read in place) against
 * {@link GroupedQueryAttention#attend} (libtorch) on the same numbers, for the SIMD and the scalar loops: query
 * groups of 1 to 7 (the SIMD loops take four at a time), a head size that is not a multiple of the vector width,
 * masked keys, two rows and a buffer wider than its live columns.
 */
class AttendRowsTest {

    @Test
    void chosenLoops_areTheSimdOnesInTestJvms() {
        assertEquals("vector", DecodeMath.INSTANCE.name().substring(0, 6), "tests run with the Vector API module");
    }

    @Test
    void simdAndScalarLoops_equalLibtorchAttention() {
        for (DecodeMath math : new DecodeMath[] {DecodeMath.INSTANCE, new DecodeMath.Scalar()}) {
            for (int groups = 1; groups <= 7; groups++) {
                check(math, 2, groups, 64, 37);
            }
            check(math, 3, 2, 24, 11);    // head size 24: the SIMD loops hand over to the scalar ones
        }
    }

    private static void check(DecodeMath math, int kvHeads, int groups, int d, int n) {
        int rows = 2;
        int heads = kvHeads * groups;
        int capacity = n + 5;
        int origin = 3;
        Random rnd = new Random(31L * groups + d);
        ByteBuffer keys = ByteBuffer.allocateDirect(4 * rows * kvHeads * capacity * d).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer values = ByteBuffer.allocateDirect(keys.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        CachedKeyValues kv = new CachedKeyValues(keys, values, kvHeads, d, capacity, origin, n);
        float[] k = new float[rows * kvHeads * n * d];   // the live columns, [rows, kvHeads, n, d]
        float[] v = new float[k.length];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < kvHeads; h++) {
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < d; i++) {
                        int at = ((r * kvHeads + h) * n + j) * d + i;
                        k[at] = (float) rnd.nextGaussian();
                        v[at] = (float) rnd.nextGaussian();
                        keys.putFloat(4 * (kv.offset(r, h, j) + i), k[at]);
                        values.putFloat(4 * (kv.offset(r, h, j) + i), v[at]);
                    }
                }
            }
        }
        float[] q = new float[rows * heads * d];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (rnd.nextGaussian() / Math.sqrt(d));
        }
        boolean[][] mask = new boolean[rows][n];
        float[] bias = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                mask[r][j] = r == 0 || j >= 4;   // row 1: its first four keys are padding
                bias[r * n + j] = mask[r][j] ? 0f : AttentionLayout.MASKED;
            }
        }
        float[] got = new float[q.length];
        GroupedQueryAttention.attendRows(q, rows, heads, kv, mask, got, math);
        float[] want;
        try (NDManager m = Peft4j.newManager()) {
            NDArray out = GroupedQueryAttention.attend(m.create(q, new Shape(rows, 1, heads, d)),
                    new KeyValues(m.create(k, new Shape(rows, kvHeads, n, d)),
                            m.create(v, new Shape(rows, kvHeads, n, d))),
                    m.create(bias, new Shape(rows, 1, 1, 1, n)));
            want = out.toFloatArray();
        }
        float worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst < 1e-5f, math.name() + " groups " + groups + " d " + d + ": max |java - libtorch| = " + worst);
    }
}
