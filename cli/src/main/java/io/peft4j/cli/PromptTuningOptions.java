package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.prompt.PromptTuningConfig;
import io.peft4j.prompt.PromptTuningInit;

import java.util.Locale;

/** {@code finetune --method prompt-tuning}: checks its options (before the model loads) and builds its config. */
final class PromptTuningOptions {
    private PromptTuningOptions() {
    }

    /** Validates {@code --method} and the prompt options; returns whether the method is prompt tuning. */
    static boolean check(String method, int virtualTokens, String init, String initText, boolean checkpointing) {
        String m = method.toLowerCase(Locale.ROOT);
        if (!m.equals("lora") && !m.equals("prompt-tuning")) {
            throw new IllegalArgumentException("--method " + method
                    + " is not available in this build (supported: lora, prompt-tuning)");
        }
        if (!m.equals("prompt-tuning")) {
            return false;
        }
        if (virtualTokens <= 0) {
            throw new IllegalArgumentException("--num-virtual-tokens must be at least 1, got " + virtualTokens);
        }
        PromptTuningInit kind = init(init);
        if (kind == PromptTuningInit.TEXT && (initText == null || initText.isEmpty())) {
            throw new IllegalArgumentException("--prompt-init text needs --prompt-init-text TEXT");
        }
        if (kind != PromptTuningInit.TEXT && initText != null) {
            throw new IllegalArgumentException("--prompt-init-text is only used with --prompt-init text");
        }
        if (checkpointing) {
            throw new IllegalArgumentException("--gradient-checkpointing is not supported with --method prompt-tuning");
        }
        return true;
    }

    /** The prompt-tuning config for {@code ckpt}; refuses a prompt that leaves no room for {@code maxSeqLen}. */
    static PromptTuningConfig config(int virtualTokens, String init, String initText, int maxSeqLen, String modelPath,
                                     Checkpoint ckpt) {
        int window = ckpt.config().maxPositions();
        if (window > 0 && virtualTokens + maxSeqLen > window) {
            throw new IllegalArgumentException("--num-virtual-tokens " + virtualTokens + " + --max-seq-len " + maxSeqLen
                    + " exceed the model's context window of " + window + " positions");
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
