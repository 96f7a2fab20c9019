package io.peft4j.datasets;

import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.preference.PreferencePair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns {@link PreferenceRecord}s into {@link PreferencePair}s as trl's {@code DPOTrainer} tokenizes them. Message
 * lists (and string records when a template is set) are rendered with the {@link ChatTemplate}: the prompt with the
 * generation prompt, prompt + answer whole, tokenized without added special tokens. String records without a
 * template are raw text as in trl: EOS text appended to each answer, tokenized with the tokenizer's special tokens.
 * The answer starts where the tokenized prompt and prompt + answer diverge (trl's {@code common_prefix_length});
 * labels cover the answer tokens only. Truncation: {@code maxPromptLength} keeps the end of the prompt (trl before
 * 1.0), then {@code maxLength} keeps the start of each row (trl 1.x {@code keep_start}); a pair whose prompt alone
 * fills {@code maxLength} is dropped.
 *
 * <pre>{@code
 * PreferenceEncoder enc = PreferenceEncoder.builder().setTokenizer(tok).optTemplate(template).optMaxLength(512)
 *         .build();
 * PreferenceEncoder.Result r = enc.encodeAll(PreferenceReader.builder().setPath(p).build().readAll().records());
 * List<Example> rows = PreferencePair.rows(r.pairs());
 * }</pre>
 * Immutable; thread-safe when the tokenizer is.
 *
 * @since 0.1.0
 */
public final class PreferenceEncoder {
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final int maxLength;
    private final int maxPromptLength;

    /**
     * Totals of an encoding pass.
     *
     * @param records         records encoded
     * @param kept            pairs kept whole
     * @param promptTruncated pairs whose prompt was cut to {@code maxPromptLength}
     * @param answerTruncated pairs with an answer cut to fit {@code maxLength}
     * @param dropped         pairs left out (prompt fills {@code maxLength})
     * @param tokens          tokens of the kept rows (chosen + rejected)
     * @param trainedTokens   of those, answer tokens
     * @param lengthP50       median row length before truncation (nearest rank)
     * @param lengthP95       95th percentile row length before truncation
     */
    public record Stats(long records, long kept, long promptTruncated, long answerTruncated, long dropped,
                        long tokens, long trainedTokens, int lengthP50, int lengthP95) {
        /** Pairs with any truncation. */
        public long truncated() {
            return promptTruncated + answerTruncated;
        }

        public double trainedTokenShare() {
            return tokens == 0 ? 0 : (double) trainedTokens / tokens;
        }
    }

    /** The pairs in record order (dropped ones left out) and the totals. */
    public record Result(List<PreferencePair> pairs, Stats stats) {
        public Result {
            pairs = List.copyOf(pairs);
        }
    }

    private PreferenceEncoder(Builder b) {
        this.tokenizer = b.tokenizer;
        this.template = b.template;
        this.maxLength = b.maxLength;
        this.maxPromptLength = b.maxPromptLength;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What encoding one record gave: the pair (null when dropped), truncation flags, lengths before truncation. */
    record One(PreferencePair pair, boolean promptCut, boolean answerCut, int chosenLength, int rejectedLength) {
    }

    One encode(PreferenceRecord r) throws ChatTemplateException {
        int[] prompt;
        int[] fullC;
        int[] fullR;
        if (r.conversational() || template != null) {
            if (template == null) {
                throw new IllegalStateException("conversational preference records need a chat template (optTemplate)");
            }
            prompt = tokenizer.encode(template.render(new Conversation(r.prompt(), ""), true), false);
            fullC = tokenizer.encode(template.render(new Conversation(concat(r.prompt(), r.chosen()), ""), false), false);
            fullR = tokenizer.encode(template.render(new Conversation(concat(r.prompt(), r.rejected()), ""), false),
                    false);
        } else {
            String eos = SpecialTokens.of(tokenizer).eos();
            String p = r.prompt().get(0).content();
            prompt = tokenizer.encode(p, true);
            fullC = tokenizer.encode(p + withEos(r.chosen().get(0).content(), eos), true);
            fullR = tokenizer.encode(p + withEos(r.rejected().get(0).content(), eos), true);
        }
        int promptLen = Math.min(commonPrefix(prompt, fullC), commonPrefix(prompt, fullR));
        int[] promptIds = Arrays.copyOf(fullC, promptLen);
        int[] c = Arrays.copyOfRange(fullC, promptLen, fullC.length);
        int[] rej = Arrays.copyOfRange(fullR, promptLen, fullR.length);
        boolean promptCut = false;
        if (maxPromptLength > 0 && promptIds.length > maxPromptLength) {
            promptIds = Arrays.copyOfRange(promptIds, promptIds.length - maxPromptLength, promptIds.length);
            promptCut = true;
        }
        if (promptIds.length >= maxLength) {
            return new One(null, promptCut, false, fullC.length, fullR.length);
        }
        int room = maxLength - promptIds.length;
        boolean answerCut = c.length > room || rej.length > room;
        c = Arrays.copyOf(c, Math.min(room, c.length));
        rej = Arrays.copyOf(rej, Math.min(room, rej.length));
        Example chosen = row(promptIds, c);
        Example rejected = row(promptIds, rej);
        if (chosen.trainedTokens() == 0 || rejected.trainedTokens() == 0) {
            return new One(null, promptCut, answerCut, fullC.length, fullR.length);   // no answer token to score
        }
        return new One(new PreferencePair(chosen, rejected), promptCut, answerCut, fullC.length, fullR.length);
    }

    /** Encodes all records; template errors name the record's line. */
    public Result encodeAll(List<PreferenceRecord> records) throws ChatTemplateException {
        List<PreferencePair> pairs = new ArrayList<>();
        long kept = 0, promptCut = 0, answerCut = 0, dropped = 0, tokens = 0, trained = 0;
        int[] lengths = new int[records.size() * 2];
        for (int i = 0; i < records.size(); i++) {
            One o;
            try {
                o = encode(records.get(i));
            } catch (ChatTemplateException e) {
                throw new ChatTemplateException("record " + i + " (line " + records.get(i).line() + "): "
                        + e.getMessage(), e);
            }
            lengths[2 * i] = o.chosenLength();
            lengths[2 * i + 1] = o.rejectedLength();
            if (o.pair() == null) {
                dropped++;
                continue;
            }
            pairs.add(o.pair());
            promptCut += o.promptCut() ? 1 : 0;
            answerCut += o.answerCut() ? 1 : 0;
            kept += o.promptCut() || o.answerCut() ? 0 : 1;
            for (Example e : List.of(o.pair().chosen(), o.pair().rejected())) {
                tokens += e.inputIds().length;
                trained += e.trainedTokens();
            }
        }
        Arrays.sort(lengths);
        return new Result(pairs, new Stats(records.size(), kept, promptCut, answerCut, dropped, tokens, trained,
                EncodingStats.percentile(lengths, 50), EncodingStats.percentile(lengths, 95)));
    }

    private static Example row(int[] prompt, int[] answer) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + answer.length);
        System.arraycopy(answer, 0, ids, prompt.length, answer.length);
        int[] labels = ids.clone();
        Arrays.fill(labels, 0, prompt.length, Example.IGNORE);
        return new Example(ids, labels);
    }

    private static String withEos(String s, String eos) {
        return eos.isEmpty() || s.endsWith(eos) ? s : s + eos;
    }

    private static List<Message> concat(List<Message> a, List<Message> b) {
        List<Message> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }

    /** Builder: {@code setTokenizer} required; template, {@code maxLength} and {@code maxPromptLength} optional. */
    public static final class Builder {
        private Tokenizer tokenizer;
        private ChatTemplate template;
        private int maxLength = Integer.MAX_VALUE;
        private int maxPromptLength;

        private Builder() {
        }

        public Builder setTokenizer(Tokenizer v) { tokenizer = Objects.requireNonNull(v, "tokenizer"); return this; }

        /** Renders message lists, and string records as a user/assistant exchange (default none: raw strings). */
        public Builder optTemplate(ChatTemplate v) { template = Objects.requireNonNull(v, "template"); return this; }

        /** Longest row (prompt + answer) in tokens, trl's {@code max_length} with {@code keep_start}. */
        public Builder optMaxLength(int v) {
            if (v < 2) {
                throw new IllegalArgumentException("max_length must be >= 2, was " + v);
            }
            maxLength = v;
            return this;
        }

        /** Longest prompt in tokens, its end kept (0 = no limit). */
        public Builder optMaxPromptLength(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("max_prompt_length must be >= 0, was " + v);
            }
            maxPromptLength = v;
            return this;
        }

        public PreferenceEncoder build() {
            if (tokenizer == null) {
                throw new IllegalArgumentException("PreferenceEncoder needs a tokenizer (setTokenizer)");
            }
            return new PreferenceEncoder(this);
        }
    }
}
