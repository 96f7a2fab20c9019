package io.peft4j.serve.internal;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.TokenSampler;
import io.peft4j.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;

/**
 * One row the engine generates: a tokenized prompt, its adapter ({@code __base__} for none), its sampling settings
 * and stop conditions, the tokens produced so far and the text already handed out. Every token, the end and any
 * failure go to {@code sink} as {@link Event}s tagged with this row's choice index. The engine thread alone calls
 * {@code accept} and {@code finish}; {@link #cancel} (a client that went away) may come from any thread.
 */
public final class Sequence {
    /** What a request's handler receives: a text delta, the end (finish reason, counts), or a failure. */
    public record Event(int choice, String text, String finishReason, ApiError error) {
    }

    private final int choice;
    private final String adapter;
    private final int[] prompt;
    private final SamplingParams params;
    private final Set<Integer> eos;
    private final Tokenizer tokenizer;
    private final BlockingQueue<Event> sink;
    private final TokenSampler sampler;
    private final List<Integer> generated = new ArrayList<>();
    private final BitSet seen = new BitSet();
    private final int[] counts;
    private String shown = "";
    private String finishReason;
    private volatile boolean cancelled;

    public Sequence(int choice, String adapter, int[] prompt, SamplingParams params, Set<Integer> eos,
                    Tokenizer tokenizer, int vocab, BlockingQueue<Event> sink) {
        this.choice = choice;
        this.adapter = adapter;
        this.prompt = prompt.clone();
        this.params = params;
        this.eos = eos;
        this.tokenizer = tokenizer;
        this.sink = sink;
        this.sampler = new TokenSampler(GenerationConfig.builder().optMaxNewTokens(params.maxTokens())
                .optTemperature(params.temperature()).optTopK(params.topK()).optTopP(params.topP())
                .optRepetitionPenalty(params.repetitionPenalty()).optSeed(params.seed()).build(),
                params.presencePenalty(), params.frequencyPenalty());
        this.counts = new int[vocab];
        for (int id : prompt) {
            if (id >= 0 && id < vocab) {
                seen.set(id);
            }
        }
    }

    public String adapter() {
        return adapter;
    }

    public int promptTokens() {
        return prompt.length;
    }

    public int generatedTokens() {
        return generated.size();
    }

    /** The prompt followed by every generated token: what the prefill of a joining row feeds. */
    long[] allTokens() {
        long[] out = new long[prompt.length + generated.size()];
        for (int i = 0; i < prompt.length; i++) {
            out[i] = prompt[i];
        }
        for (int i = 0; i < generated.size(); i++) {
            out[prompt.length + i] = generated.get(i);
        }
        return out;
    }

    /** The token the next decode step feeds: the last generated one (or the last prompt token). */
    long lastToken() {
        return generated.isEmpty() ? prompt[prompt.length - 1] : generated.get(generated.size() - 1);
    }

    boolean finished() {
        return finishReason != null;
    }

    /** Marks the row as abandoned (its client went away); the engine drops it at the next step. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** Samples this row's token from {@code logits[offset, offset + vocab)} and hands out its text. */
    void accept(float[] logits, int offset, int vocab) {
        int token = sampler.next(logits, offset, vocab, seen, counts);
        generated.add(token);
        seen.set(token);
        counts[token]++;
        if (eos.contains(token)) {
            finishReason = "stop";
        }
        String full = tokenizer.decode(ids(), true);
        for (String stop : params.stop()) {
            int at = full.indexOf(stop);
            if (at >= 0) {
                full = full.substring(0, at);
                finishReason = "stop";
            }
        }
        if (finishReason == null && generated.size() >= params.maxTokens()) {
            finishReason = "length";
        }
        String visible = full;
        if (finishReason == null) {          // hold back what may still become a stop text or a split character
            int hold = Math.max(0, params.longestStop() - 1);
            visible = full.substring(0, Math.max(0, full.length() - hold));
            if (visible.endsWith("\uFFFD")) {
                visible = shown;
            }
        }
        if (visible.length() > shown.length() && visible.startsWith(shown)) {
            sink.add(new Event(choice, visible.substring(shown.length()), null, null));
            shown = visible;
        }
        if (finishReason != null) {
            sink.add(new Event(choice, "", finishReason, null));
        }
    }

    /** Ends the row with a failure (the batch's step failed or the server is closing). */
    void fail(ApiError error) {
        if (finishReason == null) {
            finishReason = "error";
            sink.add(new Event(choice, "", null, error));
        }
    }

    private int[] ids() {
        return generated.stream().mapToInt(Integer::intValue).toArray();
    }
}
