package io.peft4j.core.train;

/**
 * What one optimizer step did, handed to {@link TrainingListener#onStep}. Built with {@link #builder()}.
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
 * @param metrics         the objective's named metrics of the step (trl's names, e.g. {@code rewards/margins});
 *                        empty for SFT
 *
 * @since 0.1.0
 */
public record StepMetrics(int step, int totalSteps, double loss, double learningRate, double gradNorm, long tokens,
                          double tokensPerSecond, double elapsedSeconds, double etaSeconds,
                          java.util.Map<String, Double> metrics) {

    public StepMetrics {
        metrics = java.util.Map.copyOf(metrics);
        if (step < 1 || step > totalSteps) {
            throw new IllegalArgumentException("step metrics: step " + step + " outside 1.." + totalSteps);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: every field is required except the timing ones (default 0). */
    public static final class Builder {
        private int step;
        private int totalSteps;
        private double loss = Double.NaN;
        private double learningRate = Double.NaN;
        private double gradNorm = Double.NaN;
        private long tokens = -1;
        private double tokensPerSecond;
        private double elapsedSeconds;
        private double etaSeconds;
        private java.util.Map<String, Double> metrics = java.util.Map.of();

        public Builder setStep(int step, int totalSteps) {
            this.step = step;
            this.totalSteps = totalSteps;
            return this;
        }

        public Builder setLoss(double v) { loss = v; return this; }
        public Builder setLearningRate(double v) { learningRate = v; return this; }
        public Builder setGradNorm(double v) { gradNorm = v; return this; }
        public Builder setTokens(long v) { tokens = v; return this; }
        public Builder optTokensPerSecond(double v) { tokensPerSecond = v; return this; }
        public Builder optElapsedSeconds(double v) { elapsedSeconds = v; return this; }
        public Builder optEtaSeconds(double v) { etaSeconds = v; return this; }
        public Builder optMetrics(java.util.Map<String, Double> v) { metrics = v; return this; }

        public StepMetrics build() {
            if (Double.isNaN(learningRate) || tokens < 0) {
                throw new IllegalStateException("step metrics need learning rate and tokens (lr " + learningRate
                        + ", tokens " + tokens + ")");
            }
            return new StepMetrics(step, totalSteps, loss, learningRate, gradNorm, tokens, tokensPerSecond,
                    elapsedSeconds, etaSeconds, metrics);
        }
    }
}
