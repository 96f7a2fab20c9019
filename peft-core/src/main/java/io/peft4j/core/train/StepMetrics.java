package io.peft4j.core.train;

/**
 * What one optimizer step did, handed to {@link TrainingListener#onStep}.
 *
 * <pre>{@code
 * trainer.addListener(new TrainingListener() {
 *     public void onStep(StepMetrics m) { losses.add(m.loss()); }
 * });
 * }</pre>
 *
 * @param step            1-based step just finished
 * @param totalSteps      steps in the run
 * @param loss            mean loss over the step's trained tokens
 * @param learningRate    rate used for this step
 * @param gradNorm        global gradient norm before clipping
 * @param tokens          input tokens processed in this step (padding excluded)
 * @param tokensPerSecond input tokens per second since the run (or resume) started
 * @param elapsedSeconds  seconds since the run (or resume) started
 * @param etaSeconds      estimated seconds to the end
 *
 * @since 0.1.0
 */
public record StepMetrics(int step, int totalSteps, double loss, double learningRate, double gradNorm, long tokens,
                          double tokensPerSecond, double elapsedSeconds, double etaSeconds) {
}
