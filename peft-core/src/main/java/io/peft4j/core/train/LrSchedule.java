package io.peft4j.core.train;

/**
 * Learning-rate schedules with linear warmup, with the same formulas as Hugging Face {@code transformers}
 * ({@code get_constant_schedule_with_warmup}, {@code get_linear_schedule_with_warmup},
 * {@code get_cosine_schedule_with_warmup}): the multiplier for 0-based optimizer step {@code s} is
 * {@code s / warmup} during warmup, then 1 (constant), {@code (total − s) / (total − warmup)} (linear) or
 * {@code ½(1 + cos(π·progress))} (cosine), never below 0.
 *
 * <pre>{@code
 * double lr = LrSchedule.COSINE.learningRate(2e-4, step, 10, 100);
 * }</pre>
 *
 * @since 0.1.0
 */
public enum LrSchedule {
    CONSTANT, LINEAR, COSINE;

    /** The learning rate for 0-based step {@code step} of {@code totalSteps}, warming up over {@code warmupSteps}. */
    public double learningRate(double peak, int step, int warmupSteps, int totalSteps) {
        return peak * multiplier(step, warmupSteps, totalSteps);
    }

    double multiplier(int step, int warmup, int total) {
        if (step < warmup) {
            return (double) step / Math.max(1, warmup);
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return switch (this) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (total - step) / Math.max(1, total - warmup));
            case COSINE -> Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
        };
    }

    /** Parses {@code constant}, {@code linear} or {@code cosine} (case-insensitive). */
    public static LrSchedule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown lr schedule '" + name + "' (constant, linear, cosine)");
        }
    }
}
