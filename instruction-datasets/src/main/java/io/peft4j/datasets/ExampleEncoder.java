package io.peft4j.datasets;

import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.internal.PrefixAligner;
import io.peft4j.datasets.internal.Truncation;
import io.peft4j.datasets.internal.TurnSegmenter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns {@link Conversation}s into {@link TrainingExample}s: renders with a {@link ChatTemplate}, tokenizes the
 * whole text once, labels only the assistant turns (content through the turn's EOS text; everything with
 * {@code trainOnInputs}), appends a trained EOS id when the last assistant turn does not already end with one,
 * prepends what the tokenizer adds (BOS) unless the template wrote it, then applies the {@link TruncationPolicy}.
 * Plain-text records bypass the template and are trained whole.
 *
 * <pre>{@code
 * ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok)
 *         .setTemplate(ChatTemplate.named("alpaca", SpecialTokens.of(tok))).optMaxSeqLen(512).build();
 * EncodedDataset data = enc.encodeAll(DatasetReader.builder().setPath(p).build().readAll().records());
 * }</pre>
 * Immutable; thread-safe when the tokenizer is.
 *
 * @since 0.1.0
 */
public final class ExampleEncoder {
    private static final Logger LOG = LoggerFactory.getLogger(ExampleEncoder.class);

    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final int maxSeqLen;
    private final TruncationPolicy truncation;
    private final boolean trainOnInputs;
    private final boolean skipTemplateErrors;
    private final int[] lead;
    private final String bosText;

    private ExampleEncoder(Builder b) {
        this.tokenizer = b.tokenizer;
        this.template = b.template;
        this.maxSeqLen = b.maxSeqLen;
        this.truncation = b.truncation;
        this.trainOnInputs = b.trainOnInputs;
        this.skipTemplateErrors = b.skipTemplateErrors;
        int[] specials = tokenizer.encode("", true);
        int eos = tokenizer.eosTokenId();
        int n = specials.length;
        while (n > 0 && specials[n - 1] == eos) {
            n--;
        }
        this.lead = Arrays.copyOf(specials, n);
        this.bosText = SpecialTokens.of(tokenizer).bos();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Encodes one conversation; throws when the template refuses it. */
    public Encoded encode(Conversation c) throws ChatTemplateException {
        TurnSegmenter.Segmented seg = segment(c);
        PrefixAligner.Aligned a = PrefixAligner.align(tokenizer, seg.text(), seg.trained());
        boolean addLead = bosText.isEmpty() || !seg.text().startsWith(bosText);
        int[] prefix = addLead ? lead : new int[0];
        int eos = tokenizer.eosTokenId();
        boolean endsTrained = c.messages().get(c.messages().size() - 1).isAssistant() || c.isPlainText();
        boolean appendEos = eos >= 0 && endsTrained && !lastTrainedIsEos(a, eos);
        int n = prefix.length + a.ids().length + (appendEos ? 1 : 0);
        int[] ids = new int[n];
        boolean[] trained = new boolean[n];
        System.arraycopy(prefix, 0, ids, 0, prefix.length);
        System.arraycopy(a.ids(), 0, ids, prefix.length, a.ids().length);
        System.arraycopy(a.trained(), 0, trained, prefix.length, a.trained().length);
        if (appendEos) {
            ids[n - 1] = eos;
            trained[n - 1] = true;
        }
        return Truncation.apply(ids, trained, maxSeqLen, truncation, trainOnInputs, tokenizer.bosTokenId(),
                a.misaligned());
    }

    /** Encodes all conversations in order; template errors throw (naming the record) unless skipped. */
    public EncodedDataset encodeAll(List<Conversation> conversations) throws ChatTemplateException {
        List<Encoded> results = new ArrayList<>(conversations.size());
        List<TrainingExample> examples = new ArrayList<>(conversations.size());
        long templateErrors = 0;
        for (int i = 0; i < conversations.size(); i++) {
            Encoded e;
            try {
                e = encode(conversations.get(i));
            } catch (ChatTemplateException ex) {
                if (!skipTemplateErrors) {
                    throw new ChatTemplateException("record " + i + ": " + ex.getMessage(), ex);
                }
                templateErrors++;
                LOG.debug("record {} skipped: {}", i, ex.getMessage());
                continue;
            }
            results.add(e);
            if (e.example() != null) {
                examples.add(e.example());
            }
        }
        return new EncodedDataset(examples, EncodingStats.of(results, templateErrors));
    }

    private TurnSegmenter.Segmented segment(Conversation c) throws ChatTemplateException {
        if (c.isPlainText()) {
            String text = c.messages().get(0).content();
            return new TurnSegmenter.Segmented(text, List.of(new TurnSegmenter.Span(0, text.length())));
        }
        if (template == null) {
            throw new IllegalStateException("a chat template is needed for non-text records (setTemplate)");
        }
        return TurnSegmenter.segment(template, c);
    }

    private static boolean lastTrainedIsEos(PrefixAligner.Aligned a, int eos) {
        for (int i = a.ids().length - 1; i >= 0; i--) {
            if (a.trained()[i]) {
                return a.ids()[i] == eos;
            }
        }
        return false;
    }

    /** Builder: {@code setTokenizer} required; template required unless all records are plain text. */
    public static final class Builder {
        private Tokenizer tokenizer;
        private ChatTemplate template;
        private int maxSeqLen = Integer.MAX_VALUE;
        private TruncationPolicy truncation = TruncationPolicy.TRUNCATE_PROMPT_LEFT;
        private boolean trainOnInputs;
        private boolean skipTemplateErrors;

        private Builder() {
        }

        public Builder setTokenizer(Tokenizer tokenizer) {
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            return this;
        }

        public Builder setTemplate(ChatTemplate template) {
            this.template = Objects.requireNonNull(template, "template");
            return this;
        }

        /** Longest example in tokens (default: unlimited). */
        public Builder optMaxSeqLen(int maxSeqLen) {
            if (maxSeqLen < 2) {
                throw new IllegalArgumentException("maxSeqLen must be >= 2, was " + maxSeqLen);
            }
            this.maxSeqLen = maxSeqLen;
            return this;
        }

        /** Default {@link TruncationPolicy#TRUNCATE_PROMPT_LEFT}. */
        public Builder optTruncation(TruncationPolicy truncation) {
            this.truncation = Objects.requireNonNull(truncation, "truncation");
            return this;
        }

        /** Train on every token, prompt included (default false: assistant turns only). */
        public Builder optTrainOnInputs(boolean trainOnInputs) {
            this.trainOnInputs = trainOnInputs;
            return this;
        }

        /** Skip (and count) conversations the template refuses instead of failing (default false). */
        public Builder optSkipTemplateErrors(boolean skip) {
            this.skipTemplateErrors = skip;
            return this;
        }

        public ExampleEncoder build() {
            if (tokenizer == null) {
                throw new IllegalArgumentException("ExampleEncoder needs a tokenizer (setTokenizer)");
            }
            return new ExampleEncoder(this);
        }
    }
}
