package io.peft4j.cli;

import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.ProgressPrinter;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.TrainingListener;
import io.peft4j.core.train.TrainingResult;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The CLI's training progress: on an interactive terminal a progress bar on stderr ({@code me.tongfei:progressbar})
 * with step, loss, learning rate, tokens/s and the trainer's own ETA; under {@code --json} or without a terminal
 * the library's {@link ProgressPrinter} lines (every 10 steps, to stderr), which read well in logs. The library
 * stays free of terminal code: the bar is only this {@link TrainingListener}. Used on one training thread.
 *
 * <pre>{@code
 * trainer.addListener(TrainingProgress.listener(out));
 * }</pre>
 */
final class TrainingProgress implements TrainingListener {
    private ProgressBar bar;
    private volatile double etaSeconds;
    private String stepNote = "";
    private String evalNote = "";

    private TrainingProgress() {
    }

    /** A bar when stdin and stdout are a terminal and {@code --json} is off, else progress lines. */
    static TrainingListener listener(JsonOption out) {
        return !out.json && System.console() != null ? new TrainingProgress() : new ProgressPrinter(System.err, 10);
    }

    @Override
    public void onStep(StepMetrics m) {
        etaSeconds = m.etaSeconds();
        if (bar == null) {
            // elapsed and ETA are the trainer's (the bar starts after the first step, and on --resume its own
            // estimate would count the restored steps as done instantly)
            bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(m.totalSteps())
                    .setStyle(ProgressBarStyle.ASCII).setMaxRenderedLength(120).continuousUpdate()
                    .setUpdateIntervalMillis(1000)
                    .startsFrom(0, Duration.ofMillis(Math.round(m.elapsedSeconds() * 1000)))
                    .setEtaFunction(s -> Optional.of(Duration.ofSeconds(Math.round(etaSeconds)))).build();
        }
        stepNote = String.format(Locale.ROOT, "loss %.4f | lr %.2e | %.0f tok/s", m.loss(), m.learningRate(),
                m.tokensPerSecond());
        bar.stepTo(m.step());
        bar.setExtraMessage(stepNote + evalNote);
    }

    @Override
    public void onEval(EvalMetrics m) {
        evalNote = String.format(Locale.ROOT, " | eval loss %.4f @ step %d", m.loss(), m.step());
        if (bar != null) {
            bar.setExtraMessage(stepNote + evalNote);
        }
    }

    @Override
    public void onEnd(TrainingResult result) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
