package io.peft4j.core.generate;

import io.peft4j.core.Inference;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.text.InvalidUtf8Exception;
import io.peft4j.core.text.StrictUtf8Reader;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loss and perplexity of a {@link CausalLM} on text, as the Hugging Face perplexity guide computes them: each
 * document is tokenized whole and scored with a sliding window of {@code maxLength} tokens moved by
 * {@code stride}, every token predicted exactly once with up to {@code maxLength - 1} tokens of context.
 * The loss is the mean NLL over all predicted tokens of all documents (token-weighted). A window goes through the
 * model's KV cache in chunks, so memory grows linearly with {@code maxLength}, which may not exceed the model's
 * context window ({@link ContextWindowException}).
 *
 * <pre>{@code
 * PerplexityEvaluator eval = new PerplexityEvaluator(model, tokenizer);
 * EvalResult r = eval.evaluate(Path.of("wiki.txt"), 512, 256);
 * double ppl = r.perplexity();
 * }</pre>
 * Not thread-safe (the model is not).
 *
 * @since 0.1.0
 */
public final class PerplexityEvaluator {
    /** Tokens per forward: bounds the logits to {@code [1, CHUNK, vocab]} (50 MB on a 49k vocabulary). */
    static final int CHUNK = 256;

    private final CausalLM model;
    private final Tokenizer tokenizer;

    public PerplexityEvaluator(CausalLM model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Scores a plain-text file (one document) or the {@code text} field of each line of a {@code .jsonl} file. */
    public EvalResult evaluate(Path file, int maxLength, int stride) throws IOException, PeftException {
        return evaluateTexts(readTexts(file), maxLength, stride);
    }

    public EvalResult evaluateTexts(List<String> texts, int maxLength, int stride) {
        List<int[]> docs = new ArrayList<>();
        for (String text : texts) {
            docs.add(tokenizer.encode(text, true));
        }
        return evaluateIds(docs, maxLength, stride);
    }

    /** Scores tokenized documents. */
    public EvalResult evaluateIds(List<int[]> docs, int maxLength, int stride) {
        if (maxLength < 2 || stride < 1 || stride > maxLength) {
            throw new IllegalArgumentException("need maxLength >= 2 and 1 <= stride <= maxLength, got maxLength "
                    + maxLength + ", stride " + stride);
        }
        ContextWindowException.check(model.config(), maxLength, "evaluation window");
        double nll = 0;
        long tokens = 0;
        try (Inference.Scope inference = Inference.enter(); NDManager m = model.manager().newSubManager();
             KvCache cache = model.newKvCache(1)) {
            cache.reserve(maxLength);
            for (int[] ids : docs) {
                int prevEnd = 0;
                for (int begin = 0; begin < ids.length; begin += stride) {
                    int end = Math.min(begin + maxLength, ids.length);
                    int from = Math.max(prevEnd, begin + 1);
                    if (from < end) {
                        nll += windowNll(m, cache, ids, begin, end, from);
                        tokens += end - from;
                    }
                    prevEnd = end;
                    if (end == ids.length) {
                        break;
                    }
                }
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("nothing to score: every document has fewer than 2 tokens");
        }
        double loss = nll / tokens;
        return new EvalResult(loss, Math.exp(loss), tokens);
    }

    /**
     * Sum of -log p(ids[k] | ids[begin, k)) for k in [from, end): the window goes through the KV cache in chunks of
     * {@link #CHUNK} tokens, each chunk's logits {@code [1, chunk, vocab]} scored and freed before the next.
     */
    private double windowNll(NDManager m, KvCache cache, int[] ids, int begin, int end, int from) {
        cache.reset();
        double nll = 0;
        for (int start = begin; start < end; start += CHUNK) {
            int stop = Math.min(end, start + CHUNK);
            try (NDScope scope = new NDScope()) {
                long[] chunk = new long[stop - start];
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = ids[start + i];
                }
                NDArray logits = model.forward(m.create(chunk, new Shape(1, chunk.length)), null, cache);
                // the logits at position j predict ids[j + 1]: score j in [max(start, from - 1), min(stop, end - 1))
                int lo = Math.max(start, from - 1);
                int hi = Math.min(stop, end - 1);
                if (lo < hi) {
                    long[] targets = new long[hi - lo];
                    for (int j = lo; j < hi; j++) {
                        targets[j - lo] = ids[j + 1];
                    }
                    NDArray scored = logits.get(new NDIndex("0, " + (lo - start) + ":" + (hi - start) + ", :"));
                    NDArray picked = scored.logSoftmax(-1).gather(m.create(targets, new Shape(targets.length, 1)), 1);
                    nll -= picked.sum().toType(DataType.FLOAT64, false).getDouble();
                }
            }
        }
        return nll;
    }

    /**
     * Documents of {@code file}: its whole text, or one per JSONL line ({@code text} field). Decoded by the strict
     * {@link StrictUtf8Reader}: malformed UTF-8 is refused naming the line and byte offset.
     */
    public static List<String> readTexts(Path file) throws IOException, PeftException {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        List<String> texts = new ArrayList<>();
        try (StrictUtf8Reader r = new StrictUtf8Reader(Files.newInputStream(file))) {
            if (!name.endsWith(".jsonl")) {
                StringBuilder sb = new StringBuilder();
                char[] buf = new char[1 << 14];
                for (int n = r.read(buf); n >= 0; n = r.read(buf)) {
                    sb.append(buf, 0, n);
                }
                return List.of(sb.toString());
            }
            long lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (!line.isBlank()) {
                    texts.add(textField(file, lineNo, line));
                }
            }
        } catch (InvalidUtf8Exception e) {
            throw new PeftException(file + ":" + e.line() + ": " + e.getMessage());
        }
        return texts;
    }

    private static String textField(Path file, long lineNo, String line) throws PeftException {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new PeftException(file + ":" + lineNo + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode text = node.get("text");
        if (text == null || !text.isTextual()) {
            throw new PeftException(file + ":" + lineNo + ": missing string field 'text'");
        }
        return text.asText();
    }
}
