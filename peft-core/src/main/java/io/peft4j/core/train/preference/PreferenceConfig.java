package io.peft4j.core.train.preference;

/**
 * Settings of a {@link PreferenceObjective}, with trl's {@code DPOConfig} / {@code ORPOConfig} names and defaults:
 * {@code loss_type} sigmoid, {@code beta} 0.1 (ORPO's λ), {@code label_smoothing} 0,
 * {@code precompute_ref_log_probs} false. Build with {@link #builder()}.
 *
 * <pre>{@code
 * PreferenceConfig c = PreferenceConfig.builder().setLossType(PreferenceLossType.IPO).optBeta(0.5).build();
 * }</pre>
 *
 * @param lossType              which loss (see {@link PreferenceLossType})
 * @param beta                  β: deviation from the reference (DPO/hinge), τ (IPO), λ (ORPO); &gt; 0
 * @param labelSmoothing        ε of conservative DPO, in [0, 0.5); only with {@link PreferenceLossType#SIGMOID}
 *                              (trl 1.16's {@code sigmoid} ignores it; both agree at the default 0)
 * @param precomputeRefLogProbs compute the reference log-probs of all training pairs in one pass before training
 *
 * @since 0.1.0
 */
public record PreferenceConfig(PreferenceLossType lossType, double beta, double labelSmoothing,
                               boolean precomputeRefLogProbs) {

    public PreferenceConfig {
        if (lossType == null) {
            throw new IllegalArgumentException("preference loss_type must be set");
        }
        if (!(beta > 0) || !Double.isFinite(beta)) {
            throw new IllegalArgumentException("invalid preference setting: beta = " + beta + " (must be > 0)");
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 0.5)) {
            throw new IllegalArgumentException("invalid preference setting: label_smoothing = " + labelSmoothing
                    + " (must be in [0, 0.5))");
        }
        if (labelSmoothing > 0 && lossType != PreferenceLossType.SIGMOID) {
            throw new IllegalArgumentException("invalid preference setting: label_smoothing = " + labelSmoothing
                    + " applies to loss_type sigmoid only, not " + lossType.trlName());
        }
        if (precomputeRefLogProbs && !lossType.needsReference()) {
            throw new IllegalArgumentException("invalid preference setting: precompute_ref_log_probs with "
                    + lossType.trlName() + ", which has no reference");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with trl's defaults (sigmoid, β 0.1, ε 0, no precompute). */
    public static final class Builder {
        private PreferenceLossType type = PreferenceLossType.SIGMOID;
        private double beta = 0.1;
        private double smoothing;
        private boolean precompute;

        private Builder() {
        }

        public Builder setLossType(PreferenceLossType v) { type = v; return this; }
        public Builder optBeta(double v) { beta = v; return this; }
        public Builder optLabelSmoothing(double v) { smoothing = v; return this; }
        public Builder optPrecomputeRefLogProbs(boolean v) { precompute = v; return this; }

        public PreferenceConfig build() {
            return new PreferenceConfig(type, beta, smoothing, precompute);
        }
    }
}
