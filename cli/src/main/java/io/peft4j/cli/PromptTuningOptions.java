package io.peft4j.cli;

import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.prompt.EncoderReparameterizationType;
import io.peft4j.prompt.PrefixTuningConfig;
import io.peft4j.prompt.PromptEncoderConfig;
import io.peft4j.prompt.PromptTuningConfig;
import io.peft4j.prompt.PromptTuningInit;

import java.util.Locale;

/**
 * {@code finetune --method prompt-tuning | p-tuning | prefix-tuning}: checks the soft-prompt options (before the model
 * loads) and builds the method's config. The encoder options belong to P-tuning (and {@code --encoder-hidden-size}
 * also to prefix tuning's {@code --prefix-projection}), the init options to prompt tuning; each is refused with the
 * other methods, so that a flag never silently does nothing.
 */
final class PromptTuningOptions {
    /** {@code finetune}'s adapter methods. */
    enum Method {
        LORA, PROMPT_TUNING, P_TUNING, PREFIX_TUNING;

        boolean isSoftPrompt() {
            return this != LORA;
        }
    }

    /** The P-tuning encoder options as given (null = not given). */
    record Encoder(String type, Integer hiddenSize, Integer numLayers, Double dropout) {
        boolean given() {
            return type != null || hiddenSize != null || numLayers != null || dropout != null;
        }
    }

    private PromptTuningOptions() {
    }

    /** Validates {@code --method} and the soft-prompt options; returns the method. */
    static Method check(String method, int virtualTokens, String init, String initText, Encoder encoder,
                        boolean prefixProjection) {
        Method m = switch (method.toLowerCase(Locale.ROOT)) {
            case "lora" -> Method.LORA;
            case "prompt-tuning" -> Method.PROMPT_TUNING;
            case "p-tuning" -> Method.P_TUNING;
            case "prefix-tuning" -> Method.PREFIX_TUNING;
            default -> throw new IllegalArgumentException("--method " + method
                    + " is not available in this build (supported: lora, prompt-tuning, p-tuning, prefix-tuning)");
        };
        if (prefixProjection && m != Method.PREFIX_TUNING) {
            throw new IllegalArgumentException("--prefix-projection is only used with --method prefix-tuning");
        }
        if (m == Method.PREFIX_TUNING && (encoder.type() != null || encoder.numLayers() != null
                || encoder.dropout() != null || (encoder.hiddenSize() != null && !prefixProjection))) {
            throw new IllegalArgumentException("with --method prefix-tuning only --encoder-hidden-size is used, and "
                    + "only with --prefix-projection");
        }
        if (m != Method.P_TUNING && m != Method.PREFIX_TUNING && encoder.given()) {
            throw new IllegalArgumentException("--encoder-* options are only used with --method p-tuning");
        }
        if (!m.isSoftPrompt()) {
            return m;
        }
        if (virtualTokens <= 0) {
            throw new IllegalArgumentException("--num-virtual-tokens must be at least 1, got " + virtualTokens);
        }
        if (m == Method.P_TUNING || m == Method.PREFIX_TUNING) {
            if (!init.equalsIgnoreCase("random") || initText != null) {
                throw new IllegalArgumentException("--prompt-init and --prompt-init-text are only used with --method "
                        + "prompt-tuning (the table of " + method + " is random, as in PEFT)");
            }
            // bad encoder values fail before the model loads
            if (m == Method.P_TUNING) {
                encoderConfig(virtualTokens, encoder, null);
            } else {
                prefixConfig(virtualTokens, encoder, true, null);
            }
            return m;
        }
        PromptTuningInit kind = init(init);
        if (kind == PromptTuningInit.TEXT && (initText == null || initText.isEmpty())) {
            throw new IllegalArgumentException("--prompt-init text needs --prompt-init-text TEXT");
        }
        if (kind != PromptTuningInit.TEXT && initText != null) {
            throw new IllegalArgumentException("--prompt-init-text is only used with --prompt-init text");
        }
        return m;
    }

    /**
     * The soft-prompt config of {@code method} for {@code ckpt}; refuses a prompt that leaves no room for
     * {@code maxSeqLen}.
     */
    static AdapterConfig config(Method method, int virtualTokens, String init, String initText, Encoder encoder,
                                boolean prefixProjection, int maxSeqLen, String modelPath, Checkpoint ckpt) {
        int window = ckpt.config().maxPositions();
        if (window > 0 && virtualTokens + maxSeqLen > window) {
            throw new IllegalArgumentException("--num-virtual-tokens " + virtualTokens + " + --max-seq-len " + maxSeqLen
                    + " exceed the model's context window of " + window + " positions");
        }
        if (method == Method.P_TUNING) {
            return encoderConfig(virtualTokens, encoder, modelPath);
        }
        if (method == Method.PREFIX_TUNING) {
            return prefixConfig(virtualTokens, encoder, prefixProjection, modelPath);
        }
        PromptTuningConfig.Builder b = PromptTuningConfig.builder().setNumVirtualTokens(virtualTokens)
                .optBaseModelNameOrPath(modelPath);
        if (init(init) == PromptTuningInit.TEXT) {
            int tokens = ckpt.tokenizer().encode(initText, true).length;
            if (window > 0 && tokens > window) {
                throw new IllegalArgumentException("--prompt-init-text has " + tokens
                        + " tokens, longer than the model's context window of " + window);
            }
            return b.optPromptTuningInitText(initText, ckpt.tokenizer()).build();
        }
        return b.optPromptTuningInit(init(init)).build();
    }

    /** P-tuning's config: MLP encoder of 128 units unless told otherwise (LSTM: 2 layers, no dropout). */
    private static PromptEncoderConfig encoderConfig(int virtualTokens, Encoder e, String modelPath) {
        EncoderReparameterizationType type = e.type() == null ? EncoderReparameterizationType.MLP
                : switch (e.type().toLowerCase(Locale.ROOT)) {
                    case "mlp" -> EncoderReparameterizationType.MLP;
                    case "lstm" -> EncoderReparameterizationType.LSTM;
                    default -> throw new IllegalArgumentException("--encoder-type must be mlp or lstm, got '"
                            + e.type() + "'");
                };
        int hidden = e.hiddenSize() == null ? 128 : e.hiddenSize();
        if (hidden <= 0) {
            throw new IllegalArgumentException("--encoder-hidden-size must be at least 1, got " + hidden);
        }
        int layers = e.numLayers() == null ? 2 : e.numLayers();
        if (layers <= 0) {
            throw new IllegalArgumentException("--encoder-num-layers must be at least 1, got " + layers);
        }
        double dropout = e.dropout() == null ? 0 : e.dropout();
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("--encoder-dropout must be in [0, 1), got " + dropout);
        }
        if (type == EncoderReparameterizationType.MLP && (e.numLayers() != null || e.dropout() != null)) {
            throw new IllegalArgumentException("--encoder-num-layers and --encoder-dropout are only used with "
                    + "--encoder-type lstm (PEFT's MLP encoder has exactly 3 layers and no dropout)");
        }
        return PromptEncoderConfig.builder().setNumVirtualTokens(virtualTokens).setEncoderHiddenSize(hidden)
                .optEncoderReparameterizationType(type).optEncoderNumLayers(layers).optEncoderDropout(dropout)
                .optBaseModelNameOrPath(modelPath).build();
    }

    /** Prefix tuning's config: the prefix itself, or with a projection of {@code --encoder-hidden-size} units. */
    private static PrefixTuningConfig prefixConfig(int virtualTokens, Encoder e, boolean projection, String modelPath) {
        PrefixTuningConfig.Builder b = PrefixTuningConfig.builder().setNumVirtualTokens(virtualTokens)
                .optPrefixProjection(projection).optBaseModelNameOrPath(modelPath);
        if (e.hiddenSize() != null) {
            if (e.hiddenSize() <= 0) {
                throw new IllegalArgumentException("--encoder-hidden-size must be at least 1, got " + e.hiddenSize());
            }
            b.optEncoderHiddenSize(e.hiddenSize());
        }
        return b.build();
    }

    private static PromptTuningInit init(String init) {
        return switch (init.toLowerCase(Locale.ROOT)) {
            case "random" -> PromptTuningInit.RANDOM;
            case "sample-vocab", "vocab", "sample_vocab" -> PromptTuningInit.SAMPLE_VOCAB;
            case "text" -> PromptTuningInit.TEXT;
            default -> throw new IllegalArgumentException("--prompt-init must be random, sample-vocab or text, got '"
                    + init + "'");
        };
    }
}
