package io.peft4j.bench;

import io.peft4j.core.PeftException;
import io.peft4j.core.ProcessMemory;

/**
 * Two ways of training compared in ONE process: {@code steps + 1} rounds, each running one optimizer step of every
 * mode in the given order (so machine load hits them alike); round 0 is the warm-up, and each mode's peak RSS is read
 * over its warm-up step with the peak reset just before it (the mode run first cannot inherit memory the allocator
 * keeps from the other). Used by {@link CheckpointingBenchmark} and {@link PreferenceBenchmark}.
 */
final class AlternatingSteps {
    /** One optimizer step of mode {@code mode}; returns its seconds. */
    interface Step {
        double run(int mode) throws PeftException;
    }

    /**
     * @param medianSeconds median step time per mode (warm-up excluded)
     * @param peakRssBytes  process peak RSS over each mode's warm-up step, -1 where unknown
     */
    record Result(double[] medianSeconds, long[] peakRssBytes) {
    }

    private AlternatingSteps() {
    }

    /** Runs {@code order.length} modes (indices into the result arrays) alternately, in {@code order}. */
    static Result run(int steps, int[] order, Step step) throws PeftException {
        double[][] times = new double[order.length][steps];
        long[] peaks = new long[order.length];
        for (int i = 0; i <= steps; i++) {
            for (int mode : order) {
                boolean measurePeak = i == 0 && ProcessMemory.resetPeak();
                double secs = step.run(mode);
                if (i > 0) {
                    times[mode][i - 1] = secs;
                } else {
                    peaks[mode] = measurePeak ? ProcessMemory.peakRssBytes().orElse(-1) : -1;
                }
            }
        }
        double[] medians = new double[order.length];
        for (int m = 0; m < order.length; m++) {
            medians[m] = Medians.upper(times[m]);
        }
        return new Result(medians, peaks);
    }
}
