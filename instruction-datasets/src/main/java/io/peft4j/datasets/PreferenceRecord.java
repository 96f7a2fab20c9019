package io.peft4j.datasets;

import java.util.List;

/**
 * One preference record as trl reads it: a prompt, a chosen and a rejected answer. Either strings
 * ({@code conversational} false: each is one message whose content is the raw text) or message lists; a record
 * without a {@code prompt} field had its prompt extracted as the longest shared prefix of {@code chosen} and
 * {@code rejected} (trl's {@code extract_prompt}, Anthropic-HH style).
 *
 * <pre>{@code
 * PreferenceDataset d = PreferenceReader.builder().setPath(p).build().readAll();
 * PreferenceRecord r = d.records().get(0);
 * String answer = r.chosen().get(0).content();
 * }</pre>
 *
 * @param prompt         the prompt messages (string form: one user message)
 * @param chosen         the preferred answer messages (string form: one assistant message)
 * @param rejected       the dispreferred answer messages
 * @param conversational whether the file gave message lists (rendered with the chat template)
 * @param line           1-based line of the record in its file (-1 when unknown)
 *
 * @since 0.1.0
 */
public record PreferenceRecord(List<Message> prompt, List<Message> chosen, List<Message> rejected,
                               boolean conversational, long line) {
    public PreferenceRecord {
        prompt = List.copyOf(prompt);
        chosen = List.copyOf(chosen);
        rejected = List.copyOf(rejected);
    }

    /** A string-form record ({@code prompt}, {@code chosen}, {@code rejected} as raw text). */
    public static PreferenceRecord ofText(String prompt, String chosen, String rejected) {
        return new PreferenceRecord(List.of(Message.user(prompt)), List.of(Message.assistant(chosen)),
                List.of(Message.assistant(rejected)), false, -1);
    }
}
