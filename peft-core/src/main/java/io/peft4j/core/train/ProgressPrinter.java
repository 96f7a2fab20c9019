package io.peft4j.core.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints one progress line every N steps (and the last step) to a stream, normally {@code System.err}:
 * {@code step 20/60 | loss 1.9342 | lr 1.67e-04 | 812 tok/s | ETA 0:41}.
 *
 * <pre>{@code
 * trainer.addListener(new ProgressPrinter(System.err, 10));
 * }</pre>
 *
 * @since 0.1.0
 */
public final class ProgressPrinter implements TrainingListener {
    private final PrintStream out;
    private final int every;

    public ProgressPrinter(PrintStream out, int every) {
        if (every <= 0) {
            throw new IllegalArgumentException("progress interval must be > 0: " + every);
        }
        this.out = out;
        this.every = every;
    }

    @Override
    public void onStep(StepMetrics m) {
        if (m.step() % every == 0 || m.step() == m.totalSteps()) {
            out.println(String.format(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad %.3f | %.0f tok/s | ETA %s",
                    m.step(), m.totalSteps(), m.loss(), m.learningRate(), m.gradNorm(), m.tokensPerSecond(),
                    clock(m.etaSeconds())) + rewards(m.metrics()));
        }
    }

    @Override
    public void onEval(EvalMetrics m) {
        out.println(String.format(Locale.ROOT, "eval @ step %d | loss %.4f | ppl %.2f | %d tokens", m.step(), m.loss(),
                m.perplexity(), m.tokens()) + rewards(m.metrics()));
    }

    /** {@code " | acc 0.75 | margin 0.123"} for preference objectives, empty otherwise. */
    private static String rewards(java.util.Map<String, Double> metrics) {
        Double acc = metrics.get("rewards/accuracies");
        Double margin = metrics.get("rewards/margins");
        return acc == null || margin == null ? ""
                : String.format(Locale.ROOT, " | rewards/accuracies %.3f | rewards/margins %.4f", acc, margin);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
