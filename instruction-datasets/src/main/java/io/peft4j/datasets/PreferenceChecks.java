package io.peft4j.datasets;

import io.peft4j.datasets.internal.RawRecord;

import java.util.List;

/** Prompt extraction (trl's {@code extract_prompt}) and the checks of a usable pair, for {@link PreferenceReader}. */
final class PreferenceChecks {
    private PreferenceChecks() {
    }

    /**
     * Splits two whole conversations (or texts) at their longest shared prefix: messages for conversations; for
     * text the shared character prefix, backed off to before a space as trl does.
     */
    static PreferenceRecord extractPrompt(RawRecord rec, String file, boolean conversational, List<Message> chosen,
                                          List<Message> rejected) throws DatasetFormatException {
        if (conversational) {
            int k = 0;
            while (k < chosen.size() && k < rejected.size() && chosen.get(k).equals(rejected.get(k))) {
                k++;
            }
            if (k == 0) {
                throw PreferenceReader.err(rec, file, "prompt", "missing, and chosen and rejected share no leading "
                        + "message to use as the prompt");
            }
            return new PreferenceRecord(chosen.subList(0, k), chosen.subList(k, chosen.size()),
                    rejected.subList(k, rejected.size()), true, rec.line());
        }
        String c = chosen.get(0).content();
        String r = rejected.get(0).content();
        int idx = 0;
        int n = Math.min(c.length(), r.length());
        while (idx < n && c.charAt(idx) == r.charAt(idx)) {
            idx++;
        }
        if (idx < n && idx > 0 && c.charAt(idx - 1) == ' ') {
            idx--;
        }
        return new PreferenceRecord(List.of(Message.user(c.substring(0, idx))),
                List.of(Message.assistant(c.substring(idx))), List.of(Message.assistant(r.substring(idx))), false,
                rec.line());
    }

    /** Why {@code r} cannot train (empty answer, chosen equal to rejected), or null when it is usable. */
    static DatasetFormatException problem(PreferenceRecord r, RawRecord rec, String file) {
        if (r.chosen().isEmpty() || r.chosen().stream().allMatch(m -> m.content().isEmpty())) {
            return PreferenceReader.err(rec, file, "chosen", "empty answer");
        }
        if (r.rejected().isEmpty() || r.rejected().stream().allMatch(m -> m.content().isEmpty())) {
            return PreferenceReader.err(rec, file, "rejected", "empty answer");
        }
        if (r.chosen().equals(r.rejected())) {
            return PreferenceReader.err(rec, file, "rejected", "equals chosen (nothing to prefer)");
        }
        return null;
    }
}
