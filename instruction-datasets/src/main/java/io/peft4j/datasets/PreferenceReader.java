package io.peft4j.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.datasets.internal.RawRecord;
import io.peft4j.datasets.internal.RawRecordSource;
import io.peft4j.datasets.internal.RawSources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Reads a preference file (JSON array or JSON Lines, optionally gzip) in trl's formats: {@code prompt} /
 * {@code chosen} / {@code rejected} as strings or as message lists ({@code role}/{@code content}), or only
 * {@code chosen} / {@code rejected} as whole conversations sharing a prefix, which becomes the prompt. Malformed
 * records throw {@link DatasetFormatException} (file:line, field). Pairs that cannot teach anything (chosen equal
 * to rejected, an empty answer) are skipped and listed in {@link PreferenceDataset#skipped()}, or refused with
 * {@link Builder#optStrict}.
 *
 * <pre>{@code
 * if (PreferenceReader.isPreferenceFile(p)) {
 *     PreferenceDataset d = PreferenceReader.builder().setPath(p).build().readAll();
 * }
 * }</pre>
 * Immutable and thread-safe.
 *
 * @since 0.1.0
 */
public final class PreferenceReader {
    private final Path path;
    private final boolean strict;

    private PreferenceReader(Builder b) {
        this.path = b.path;
        this.strict = b.strict;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether the first record of {@code path} has {@code chosen} and {@code rejected} fields. */
    public static boolean isPreferenceFile(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (RawRecordSource s = RawSources.open(path)) {
            RawRecord r = s.next();
            return r != null && r.node() != null && r.node().isObject() && r.node().has("chosen")
                    && r.node().has("rejected");
        } catch (DatasetFormatException e) {
            return false;
        }
    }

    /** All records; throws on the first malformed one, or when none is usable. */
    public PreferenceDataset readAll() throws DatasetFormatException, IOException {
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "dataset file not found");
        }
        String file = path.toString();
        List<PreferenceRecord> out = new ArrayList<>();
        List<DatasetFormatException> skipped = new ArrayList<>();
        try (RawRecordSource s = RawSources.open(path)) {
            for (RawRecord rec = s.next(); rec != null; rec = s.next()) {
                if (rec.error() != null) {
                    throw rec.error();
                }
                PreferenceRecord r = map(rec, file);
                DatasetFormatException bad = PreferenceChecks.problem(r, rec, file);
                if (bad == null) {
                    out.add(r);
                } else if (strict) {
                    throw bad;
                } else {
                    skipped.add(bad);
                }
            }
        }
        if (out.isEmpty()) {
            throw new DatasetFormatException(file, -1, -1, null, skipped.isEmpty() ? "no records (empty dataset)"
                    : "all " + skipped.size() + " preference records are unusable; first: "
                    + skipped.get(0).getMessage());
        }
        return new PreferenceDataset(path, out, skipped);
    }

    private static PreferenceRecord map(RawRecord rec, String file) throws DatasetFormatException {
        JsonNode n = rec.node();
        if (!n.isObject()) {
            throw err(rec, file, null, "record must be a JSON object, was " + kind(n));
        }
        JsonNode chosen = required(rec, file, n, "chosen");
        JsonNode rejected = required(rec, file, n, "rejected");
        JsonNode prompt = n.get("prompt");
        boolean conversational = chosen.isArray();
        if (chosen.isArray() != rejected.isArray() || !(chosen.isArray() || chosen.isTextual())
                || !(rejected.isArray() || rejected.isTextual())) {
            String field = chosen.isArray() || chosen.isTextual() ? "rejected" : "chosen";
            throw err(rec, file, field, "chosen and rejected must both be strings or both be message lists, were "
                    + kind(chosen) + " and " + kind(rejected));
        }
        if (prompt != null && !prompt.isNull()) {
            if (conversational != prompt.isArray() || !(prompt.isArray() || prompt.isTextual())) {
                throw err(rec, file, "prompt", "must be " + (conversational ? "a message list" : "a string")
                        + " like chosen/rejected, was " + kind(prompt));
            }
            if (!conversational) {
                return new PreferenceRecord(List.of(Message.user(prompt.asText())),
                        List.of(Message.assistant(chosen.asText())), List.of(Message.assistant(rejected.asText())),
                        false, rec.line());
            }
            return new PreferenceRecord(messages(rec, file, prompt, "prompt"), messages(rec, file, chosen, "chosen"),
                    messages(rec, file, rejected, "rejected"), true, rec.line());
        }
        return PreferenceChecks.extractPrompt(rec, file, conversational,
                conversational ? messages(rec, file, chosen, "chosen") : List.of(Message.assistant(chosen.asText())),
                conversational ? messages(rec, file, rejected, "rejected")
                        : List.of(Message.assistant(rejected.asText())));
    }

    private static List<Message> messages(RawRecord rec, String file, JsonNode list, String field)
            throws DatasetFormatException {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = field + "[" + i + "]";
            if (!m.isObject()) {
                throw err(rec, file, where, "must be a {role, content} object, was " + kind(m));
            }
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || !role.isTextual()) {
                throw err(rec, file, where + ".role", role == null ? "missing" : "must be a string, was " + kind(role));
            }
            if (content == null || !content.isTextual()) {
                throw err(rec, file, where + ".content", content == null ? "missing"
                        : "must be a string, was " + kind(content));
            }
            String r = role.asText().toLowerCase(Locale.ROOT);
            if (!r.equals(Message.USER) && !r.equals(Message.ASSISTANT) && !r.equals(Message.SYSTEM)) {
                throw err(rec, file, where + ".role", "unknown role '" + role.asText()
                        + "' (expected user, assistant or system)");
            }
            out.add(new Message(r, content.asText()));
        }
        return out;
    }

    private static JsonNode required(RawRecord rec, String file, JsonNode n, String field)
            throws DatasetFormatException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw err(rec, file, field, "missing (a preference record needs chosen and rejected)");
        }
        return v;
    }

    static DatasetFormatException err(RawRecord rec, String file, String field, String problem) {
        return new DatasetFormatException(file, rec.line(), rec.index(), field, problem);
    }

    static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** Builder: {@code setPath} required; strict (refuse bad pairs) optional. */
    public static final class Builder {
        private Path path;
        private boolean strict;

        private Builder() {
        }

        public Builder setPath(Path path) {
            this.path = Objects.requireNonNull(path, "path");
            return this;
        }

        /** Refuse (throw) a pair whose chosen equals rejected or whose answer is empty, instead of skipping it. */
        public Builder optStrict(boolean strict) {
            this.strict = strict;
            return this;
        }

        public PreferenceReader build() {
            if (path == null) {
                throw new IllegalArgumentException("PreferenceReader needs a path (setPath)");
            }
            return new PreferenceReader(this);
        }
    }
}
