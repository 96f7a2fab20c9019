package io.peft4j.datasets.internal;

import io.peft4j.datasets.Encoded;
import io.peft4j.datasets.TrainingExample;
import io.peft4j.datasets.TruncationPolicy;

import java.util.Arrays;

/**
 * Applies a {@link TruncationPolicy} to token ids with trained flags and builds the labels ({@code ExampleEncoder}'s
 * last step). Stateless.
 */
public final class Truncation {
    private Truncation() {
    }

    public static Encoded apply(int[] ids, boolean[] trained, int max, TruncationPolicy policy, boolean trainOnInputs,
                         int bos, int misaligned) {
        int n = ids.length;
        if (n <= max) {
            return new Encoded(example(ids, trained, trainOnInputs), Encoded.Outcome.KEPT, n, misaligned);
        }
        if (policy == TruncationPolicy.DROP) {
            return new Encoded(null, Encoded.Outcome.DROPPED, n, misaligned);
        }
        int[] keptIds = ids;
        boolean[] keptTrained = trained;
        if (policy == TruncationPolicy.TRUNCATE_PROMPT_LEFT) {
            int head = n > 0 && ids[0] == bos ? 1 : 0;
            int firstTrained = head;
            while (firstTrained < n && !trained[firstTrained]) {
                firstTrained++;
            }
            int remove = Math.max(0, Math.min(n - max, firstTrained - head));
            keptIds = cut(ids, head, remove);
            keptTrained = cut(trained, head, remove);
        }
        keptIds = Arrays.copyOf(keptIds, Math.min(max, keptIds.length));
        keptTrained = Arrays.copyOf(keptTrained, keptIds.length);
        boolean any = false;
        for (boolean t : keptTrained) {
            any |= t;
        }
        if (!any && !trainOnInputs) {
            return new Encoded(null, Encoded.Outcome.DROPPED, n, misaligned);
        }
        return new Encoded(example(keptIds, keptTrained, trainOnInputs), Encoded.Outcome.TRUNCATED, n, misaligned);
    }

    private static int[] cut(int[] a, int from, int count) {
        int[] out = new int[a.length - count];
        System.arraycopy(a, 0, out, 0, from);
        System.arraycopy(a, from + count, out, from, a.length - from - count);
        return out;
    }

    private static boolean[] cut(boolean[] a, int from, int count) {
        boolean[] out = new boolean[a.length - count];
        System.arraycopy(a, 0, out, 0, from);
        System.arraycopy(a, from + count, out, from, a.length - from - count);
        return out;
    }

    private static TrainingExample example(int[] ids, boolean[] trained, boolean trainOnInputs) {
        int[] labels = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            labels[i] = trainOnInputs || trained[i] ? ids[i] : TrainingExample.IGNORE;
        }
        return TrainingExample.of(ids, labels);
    }
}
