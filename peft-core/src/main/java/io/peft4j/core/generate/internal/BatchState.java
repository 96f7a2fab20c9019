package io.peft4j.core.generate.internal;

import io.peft4j.core.generate.GenerationResult;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

/**
 * Token bookkeeping of one batched generation: left-padded prompts, the tokens each row produced, which rows
 * are finished (EOS or a stop string), the incremental text handed to the listener.
 */
public final class BatchState {
    private final int[][] prompts;
    private final int width;               // longest prompt
    private final int pad;
    private final Set<Integer> eos;
    private final List<String> stops;
    private final Tokenizer tokenizer;     // null: no text
    private final TokenListener listener;
    private final List<List<Integer>> generated = new ArrayList<>();
    private final BitSet[] seen;
    private final boolean[] done;
    private final String[] texts;          // text shown to the listener so far
    private final String[] cut;            // text cut before a stop string, or null
    private final long[] lastTokens;

    public BatchState(int[][] prompts, int pad, Set<Integer> eos, List<String> stops, Tokenizer tokenizer,
               TokenListener listener) {
        this.prompts = prompts;
        this.width = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElse(0);
        this.pad = pad;
        this.eos = eos;
        this.stops = stops;
        this.tokenizer = tokenizer;
        this.listener = listener;
        this.seen = new BitSet[prompts.length];
        this.done = new boolean[prompts.length];
        this.texts = new String[prompts.length];
        this.cut = new String[prompts.length];
        this.lastTokens = new long[prompts.length];
        for (int r = 0; r < prompts.length; r++) {
            generated.add(new ArrayList<>());
            seen[r] = new BitSet();
            texts[r] = "";
            for (int id : prompts[r]) {
                seen[r].set(id);
            }
        }
    }

    public int batch() {
        return prompts.length;
    }

    /** Columns of the padded sequence so far (prompt width + generated steps). */
    public int width() {
        return width + generated.get(0).size();
    }

    public boolean anyPadding() {
        return Arrays.stream(prompts).anyMatch(p -> p.length != width);
    }

    /** {@code [B, width()]} ids: prompt left-padded, then every generated token (pad after a row finished). */
    public long[] paddedIds() {
        int w = width();
        long[] out = new long[prompts.length * w];
        for (int r = 0; r < prompts.length; r++) {
            int offset = width - prompts[r].length;
            Arrays.fill(out, r * w, r * w + offset, pad);
            for (int i = 0; i < prompts[r].length; i++) {
                out[r * w + offset + i] = prompts[r][i];
            }
            List<Integer> g = generated.get(r);
            for (int i = 0; i < g.size(); i++) {
                int token = g.get(i);
                out[r * w + width + i] = token < 0 ? pad : token;
            }
        }
        return out;
    }

    /** {@code [B, width()]} mask: 0 on left padding, 1 elsewhere. */
    public long[] paddedMask() {
        int w = width();
        long[] out = new long[prompts.length * w];
        for (int r = 0; r < prompts.length; r++) {
            Arrays.fill(out, r * w + (width - prompts[r].length), (r + 1) * w, 1L);
        }
        return out;
    }

    public long[] lastTokens() {
        return lastTokens.clone();
    }

    public BitSet seen(int row) {
        return seen[row];
    }

    public boolean done(int row) {
        return done[row];
    }

    public boolean allDone() {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }

    public void accept(int row, int token) {
        generated.get(row).add(token);
        seen[row].set(token);
        lastTokens[row] = token;
        String delta = updateText(row);
        listener.onToken(row, token, delta);
        if (eos.contains(token)) {
            done[row] = true;
        }
    }

    /** A finished row keeps the batch rectangular with padding (never shown, never attended by others). */
    public void acceptPadding(int row) {
        generated.get(row).add(-1);
        lastTokens[row] = pad;
    }

    private String updateText(int row) {
        if (tokenizer == null) {
            return "";
        }
        String full = tokenizer.decode(ids(row), true);
        for (String stop : stops) {
            int at = full.indexOf(stop);
            if (at >= 0) {
                full = full.substring(0, at);
                cut[row] = full;
                done[row] = true;
            }
        }
        String previous = texts[row];
        if (!done[row] && full.endsWith("\uFFFD")) {
            return ""; // an unfinished multi-byte character: wait for the next token
        }
        texts[row] = full;
        return full.startsWith(previous) ? full.substring(previous.length()) : full;
    }

    private int[] ids(int row) {
        return generated.get(row).stream().mapToInt(Integer::intValue).filter(t -> t >= 0).toArray();
    }

    public GenerationResult result(long nanos) {
        List<int[]> tokens = new ArrayList<>();
        List<String> out = new ArrayList<>();
        int[] promptTokens = new int[prompts.length];
        for (int r = 0; r < prompts.length; r++) {
            tokens.add(ids(r));
            out.add(tokenizer == null ? "" : cut[r] != null ? cut[r] : tokenizer.decode(ids(r), true));
            promptTokens[r] = prompts[r].length;
        }
        return new GenerationResult(tokens, out, promptTokens, nanos);
    }
}
