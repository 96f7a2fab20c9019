package io.peft4j.core.train.preference;

import java.util.Locale;

/**
 * The preference losses, named as trl's {@code DPOConfig.loss_type} (and ORPO, trl's {@code ORPOTrainer}). With
 * Δ = (log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r)) over summed answer-token log-probs:
 * <ul>
 *   <li>{@link #SIGMOID} (DPO, 2305.18290): −(1−ε)·log σ(βΔ) − ε·log σ(−βΔ) (ε = label smoothing, cDPO);</li>
 *   <li>{@link #HINGE} (SLiC): relu(1 − βΔ);</li>
 *   <li>{@link #IPO} (2310.12036): (Δc/|c| − Δr/|r| − 1/(2β))², log-ratios averaged per answer token as trl does;</li>
 *   <li>{@link #ORPO} (2403.07691, no reference): NLL(chosen, prompt included) − β·log σ(log odds), with per-token
 *       averaged log-probs and log odds = (ℓc − ℓr) − (log(1−e^ℓc) − log(1−e^ℓr)).</li>
 * </ul>
 *
 * <pre>{@code
 * PreferenceLossType t = PreferenceLossType.parse("ipo");
 * boolean ref = t.needsReference();   // true
 * }</pre>
 *
 * @since 0.1.0
 */
public enum PreferenceLossType {
    SIGMOID, IPO, HINGE, ORPO;

    /** trl's name ({@code sigmoid}, {@code ipo}, {@code hinge}, {@code orpo}). */
    public String trlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the loss compares against the reference policy (the base with the adapter disabled). */
    public boolean needsReference() {
        return this != ORPO;
    }

    /** By trl name, or {@code dpo} for {@link #SIGMOID}; an unknown name lists the known ones. */
    public static PreferenceLossType parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.equals("dpo")) {
            return SIGMOID;
        }
        for (PreferenceLossType t : values()) {
            if (t.trlName().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown preference loss '" + name + "' (expected dpo|sigmoid|ipo|hinge|orpo)");
    }
}
