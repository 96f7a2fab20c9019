/**
 * Preference tuning of adapters, trl-compatible: DPO ({@code sigmoid}), IPO, hinge and ORPO as a
 * {@link io.peft4j.core.train.TrainingObjective} of the ordinary {@link io.peft4j.core.train.Trainer}. The entry type
 * is {@link io.peft4j.core.train.preference.PreferenceObjective}; items are
 * {@link io.peft4j.core.train.preference.PreferencePair}s. The reference policy is the same base with the adapters
 * disabled, so no second model is held.
 */
package io.peft4j.core.train.preference;
