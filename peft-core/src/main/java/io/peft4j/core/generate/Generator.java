package io.peft4j.core.generate;

import io.peft4j.core.generate.internal.BatchState;
import io.peft4j.core.Inference;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Autoregressive text generation with a {@link CausalLM}: batched prompts are left-padded, the prompt is run
 * once (prefill; the model runs a long prompt in chunks) and then one token per step through the model's
 * {@link KvCache}, reserved once for prompt plus new tokens. Every step runs in its own {@code NDScope}, so native
 * memory stays flat however long the generation. Prompt plus generated tokens stay within the model's context
 * window: a longer prompt is refused with a {@link ContextWindowException} (or truncated with
 * {@link GenerationConfig#truncatePrompt()}), and generation stops when the window is full.
 *
 * <pre>{@code
 * Generator generator = new Generator(model, tokenizer);
 * GenerationConfig config = GenerationConfig.builder().optMaxNewTokens(32).build();
 * String answer = generator.generate("The capital of France is", config);
 * }</pre>
 * Not thread-safe (the model is not); create one per thread of work.
 *
 * @since 0.1.0
 */
public final class Generator {
    private static final Logger LOG = LoggerFactory.getLogger(Generator.class);

    private final CausalLM model;
    private final Tokenizer tokenizer; // may be null: ids only

    /** A generator that works on token ids only (no text, no stop strings). */
    public Generator(CausalLM model) {
        this(model, null);
    }

    public Generator(CausalLM model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** The new text for one prompt (encoded with the tokenizer's special tokens). */
    public String generate(String prompt, GenerationConfig config) {
        return generate(List.of(prompt), config, TokenListener.NONE).texts().get(0);
    }

    /** Generates for a batch of text prompts; {@code listener} sees every token as it is picked. */
    public GenerationResult generate(List<String> prompts, GenerationConfig config, TokenListener listener) {
        Tokenizer tok = requireTokenizer();
        int[][] ids = new int[prompts.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tok.encode(prompts.get(i), true);
        }
        return generateIds(ids, config, listener);
    }

    /** Generates for a batch of tokenized prompts (each at least one token). */
    public GenerationResult generateIds(int[][] prompts, GenerationConfig config, TokenListener listener) {
        if (prompts.length == 0 || Arrays.stream(prompts).anyMatch(p -> p.length == 0)) {
            throw new IllegalArgumentException("every prompt needs at least one token");
        }
        long start = System.nanoTime();
        int window = ContextWindowException.limit(model.config());
        int[][] fitted = fitWindow(prompts, config, window);
        BatchState state = new BatchState(fitted, padId(), eosIds(config), config.stopStrings(), tokenizer, listener);
        TokenSampler sampler = new TokenSampler(config);
        int vocab = model.config().vocabSize();
        try (Inference.Scope inference = Inference.enter();
             NDManager m = model.manager().newSubManager();
             KvCache cache = config.useKvCache() ? model.newKvCache(prompts.length) : null) {
            if (cache != null) {
                cache.reserve((int) Math.min(window, (long) state.width() + config.maxNewTokens()));
            }
            for (int step = 0; step < config.maxNewTokens() && !state.allDone(); step++) {
                if (state.width() >= window) {
                    LOG.info("generation stopped after {} new tokens: the context window of {} tokens is full", step,
                            window);
                    break;
                }
                float[] logits = step(m, state, cache, step == 0);
                for (int row = 0; row < prompts.length; row++) {
                    if (!state.done(row)) {
                        state.accept(row, sampler.next(logits, row * vocab, vocab, state.seen(row), null));
                    } else {
                        state.acceptPadding(row);
                    }
                }
            }
        }
        return state.result(System.nanoTime() - start);
    }

    /**
     * The prompts as they fit the context window: a longer one is refused, unless {@code truncatePrompt} is set;
     * then every prompt that leaves no room for {@code maxNewTokens} keeps its last tokens (at least one).
     */
    private static int[][] fitWindow(int[][] prompts, GenerationConfig config, int window) {
        int keep = (int) Math.max(1, window - (long) config.maxNewTokens());
        int[][] out = prompts.clone();
        for (int i = 0; i < out.length; i++) {
            if (config.truncatePrompt() && out[i].length > keep) {
                LOG.warn("prompt of {} tokens truncated to its last {} (context window {}, max new tokens {})",
                        out[i].length, keep, window, config.maxNewTokens());
                out[i] = Arrays.copyOfRange(out[i], out[i].length - keep, out[i].length);
            } else if (out[i].length > window) {
                throw new ContextWindowException("prompt", out[i].length, window);
            }
        }
        return out;
    }

    /** One forward in its own scope: the whole prompt first, then only the last token when caching. */
    private float[] step(NDManager m, BatchState state, KvCache cache, boolean first) {
        try (NDScope scope = new NDScope()) {
            NDArray logits;
            if (cache != null && !first) {
                long[] last = state.lastTokens();
                logits = model.forwardLast(m.create(last, new Shape(last.length, 1)), null, cache);
            } else {
                int b = state.batch();
                int t = state.width();
                NDArray ids = m.create(state.paddedIds(), new Shape(b, t));
                NDArray mask = state.anyPadding() ? m.create(state.paddedMask(), new Shape(b, t)) : null;
                logits = model.forwardLast(ids, mask, cache);
            }
            return logits.toFloatArray();
        }
    }

    private Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("text generation needs a tokenizer: use new Generator(model, tokenizer)");
        }
        return tokenizer;
    }

    private int padId() {
        int pad = tokenizer == null ? -1 : tokenizer.padTokenId();
        if (pad < 0) {
            pad = model.config().eosTokenId();
        }
        return Math.max(pad, 0);
    }

    private Set<Integer> eosIds(GenerationConfig config) {
        Set<Integer> eos = new LinkedHashSet<>(config.eosTokenIds());
        if (eos.isEmpty()) {
            if (model.config().eosTokenId() >= 0) {
                eos.add(model.config().eosTokenId());
            }
            if (tokenizer != null && tokenizer.eosTokenId() >= 0) {
                eos.add(tokenizer.eosTokenId());
            }
        }
        return eos;
    }
}
