package io.peft4j.datasets;

import io.peft4j.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Shows an example as text with its trained part marked: each run of trained tokens is decoded between
 * {@value #OPEN} and {@value #CLOSE}, the rest (masked with {@value TrainingExample#IGNORE}) is decoded as is.
 * Padding (attention mask 0) is left out.
 *
 * <pre>{@code
 * String shown = MaskPreview.render(example, tokenizer);
 * // "<s>Below is an instruction ... ### Response:\n[TRAIN]No</s>[/TRAIN]"
 * }</pre>
 * Stateless and thread-safe.
 *
 * @since 0.1.0
 */
public final class MaskPreview {
    public static final String OPEN = "[TRAIN]";
    public static final String CLOSE = "[/TRAIN]";

    private MaskPreview() {
    }

    public static String render(TrainingExample ex, Tokenizer tokenizer) {
        StringBuilder sb = new StringBuilder();
        int n = ex.realTokens() == ex.length() ? ex.length() : lastReal(ex) + 1;
        int i = 0;
        while (i < n) {
            boolean trained = ex.labels()[i] != TrainingExample.IGNORE;
            int j = i;
            while (j < n && (ex.labels()[j] != TrainingExample.IGNORE) == trained) {
                j++;
            }
            String text = tokenizer.decode(Arrays.copyOfRange(ex.inputIds(), i, j), false);
            sb.append(trained ? OPEN + text + CLOSE : text);
            i = j;
        }
        return sb.toString();
    }

    private static int lastReal(TrainingExample ex) {
        for (int i = ex.length() - 1; i >= 0; i--) {
            if (ex.attentionMask()[i] != 0) {
                return i;
            }
        }
        return -1;
    }
}
