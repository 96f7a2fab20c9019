package io.peft4j.datasets;

import io.peft4j.core.PeftException;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.tokenizer.HfTokenizer;

/** The real tokenizers tests use, from ../shared (skipped when absent, failing in CI). */
final class SharedTokenizers {
    private SharedTokenizers() {
    }

    /** TinyLlama's Llama-2 32k tokenizer: BOS {@code <s>}=1 added by the post-processor, EOS {@code </s>}=2. */
    static HfTokenizer llama2() {
        try {
            return HfTokenizer.load(TestResources.shared("tokenizers/llama2-32k"));
        } catch (PeftException e) {
            throw new IllegalStateException(e);
        }
    }
}
