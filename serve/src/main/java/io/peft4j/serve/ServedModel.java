package io.peft4j.serve;

import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.ChatTemplate;

/**
 * What an {@link OpenAiServer} serves: one frozen base with its adapters ({@link PeftModel}), its tokenizer and
 * chat template. Not owned by the server: the caller closes them after the server.
 *
 * <pre>{@code
 * ServedModel served = new ServedModel("smollm2", peft, checkpoint.tokenizer(), template);
 * }</pre>
 *
 * @param name         the base model's name in the API ({@code model} field, {@code /v1/models})
 * @param peft         the base and its adapter registry; adapters already loaded are served under their names
 * @param tokenizer    the base's tokenizer
 * @param chatTemplate renders {@code /v1/chat/completions} messages; {@code null}: chat is refused with 400
 */
public record ServedModel(String name, PeftModel peft, Tokenizer tokenizer, ChatTemplate chatTemplate) {

    public ServedModel {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        if (peft == null || tokenizer == null) {
            throw new IllegalArgumentException("peft and tokenizer are required");
        }
    }
}
