package io.peft4j.serve.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.Inference;
import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;

/**
 * The scheduler: one thread doing continuous (iteration-level) batching over one base model and its
 * {@link AdapterRegistry}. Each step is one decode of every running row, each row through its own adapter (a
 * {@link MixedAdapterModel} opened for that forward only, so adapter loads and unloads get in between forwards);
 * rows that arrived meanwhile join in the same step and finished rows leave the batch at the next one (their text is
 * complete at once).
 *
 * <p>KV cache: the batch keeps one {@link KvCache} whose rows are the running rows, in order. A step
 * <ol>
 *   <li>drops the rows that finished or were cancelled ({@link KvCache#retainRows}; no forward is spent on them);
 *   <li>decodes the remaining rows one token;
 *   <li>prefills the joining rows' prompts, sorted by length and grouped so that left padding stays below half of a
 *       group's real tokens, each group into a cache of its own, which is then appended to the batch's cache
 *       ({@link KvCache#appendRows}: rows right-aligned on their last position, the shorter side masked left
 *       padding). The prefill yields the new rows' first logits.
 * </ol>
 * A join therefore costs only the new rows' prefill ({@code peft4j_prefill_tokens_total}, padding included) plus a
 * copy of their keys and values; a leave costs an in-place move of the kept rows. The prefill runs in chunks of at
 * most {@value #PREFILL_POSITIONS} row-positions, each in its own {@link NDScope}, since a forward keeps every
 * layer's intermediates until its scope closes.
 *
 * <p>Every step runs in an {@link NDScope} under {@link Inference}; the only arrays that outlive a step are the
 * cache's (owned by its own manager), and the cache is closed when the batch empties. Thread-safe: {@link #submit}
 * and {@link Sequence#cancel} from any thread.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Rows x positions per prefill chunk: every intermediate of one chunk is freed before the next. */
    private static final int PREFILL_POSITIONS = 1024;

    private final AdapterRegistry registry;
    private final CausalLM model;
    private final int maxBatch;
    private final int maxQueue;
    private final int padId;
    private final int vocab;
    private final EngineMetrics metrics;
    private final Consumer<Sequence> onLeave;
    private final NDManager manager;
    private final Object lock = new Object();
    private final ArrayDeque<Sequence> pending = new ArrayDeque<>();   // guarded by lock
    private final List<Sequence> rows = new ArrayList<>();              // engine thread: the batch, in cache order
    private final Thread thread;
    private volatile int running;
    private volatile boolean closing;
    private KvCache cache;                                              // engine thread

    /**
     * @param onLeave called once per row when it leaves (finished, failed or cancelled), on the engine thread or
     *                the thread that closes the engine
     */
    public Engine(AdapterRegistry registry, int padId, int maxBatch, int maxQueue, EngineMetrics metrics,
                  Consumer<Sequence> onLeave) {
        this.registry = registry;
        this.model = registry.model();
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.padId = padId;
        this.vocab = model.config().vocabSize();
        this.metrics = metrics;
        this.onLeave = onLeave;
        this.manager = model.manager().newSubManager();
        NDManager root = model.manager();
        metrics.bind(this::queueDepth, () -> running, () -> root.getManagedArrays().size());
        this.thread = new Thread(this::loop, "peft4j-engine");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues every choice of one request, or none: 429 when the queue cannot take them all. */
    public void submit(List<Sequence> choices) {
        synchronized (lock) {
            if (closing) {
                throw new ApiError(503, "server_error", null, null, "the server is shutting down");
            }
            if (pending.size() + choices.size() > maxQueue) {
                throw new ApiError(429, "rate_limit_exceeded", null, "queue_full", "the request queue is full ("
                        + pending.size() + " waiting, --max-queue " + maxQueue + "): retry later");
            }
            pending.addAll(choices);
            lock.notifyAll();
        }
    }

    /** Choices waiting to join the running batch. */
    public int queueDepth() {
        synchronized (lock) {
            return pending.size();
        }
    }

    private void loop() {
        while (true) {
            List<Sequence> joining = new ArrayList<>();
            synchronized (lock) {
                while (!closing && pending.isEmpty() && live() == 0) {
                    rows.clear();     // idle: nothing outlives the batch
                    closeCache();
                    try {
                        lock.wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    dropCancelled();
                }
                if (closing) {
                    return;
                }
                for (Iterator<Sequence> it = pending.iterator(); it.hasNext(); ) {   // gone before they joined
                    Sequence s = it.next();
                    if (s.cancelled()) {
                        it.remove();
                        metrics.cancelled();
                        leave(s);
                    }
                }
                for (int free = maxBatch - live(); free > 0 && !pending.isEmpty(); free--) {
                    joining.add(pending.poll());
                }
            }
            dropCancelled();
            if (live() == 0 && joining.isEmpty()) {
                closeCache();
                continue;
            }
            try {
                step(joining);
            } catch (RuntimeException e) {   // a failing step fails its rows, never the server
                LOG.error("generation step failed; failing its {} rows", live() + joining.size(), e);
                ApiError error = new ApiError(500, "server_error", null, null, "generation failed: " + e.getMessage());
                for (Sequence s : concat(rows, joining)) {
                    if (!s.finished()) {
                        s.fail(error);
                        leave(s);
                    }
                }
                rows.clear();
                closeCache();
            }
        }
    }

    /**
     * One step: finished rows leave the cache, the running rows decode one token, then the joining rows are
     * prefilled (in groups of similar length) into caches of their own and appended; every row then samples.
     */
    private void step(List<Sequence> joining) {
        List<float[]> outputs = new ArrayList<>();   // the decode's logits, then each joining group's
        try (Inference.Scope inference = Inference.enter(); NDScope scope = new NDScope()) {
            dropFinished();
            if (!rows.isEmpty()) {
                outputs.add(decode());
            }
            for (List<Sequence> group : groups(joining)) {
                outputs.add(prefill(group));
            }
        }
        running = live();
        int r = 0;
        for (float[] logits : outputs) {   // rows are in cache order: decoded rows, then each group
            for (int offset = 0; offset < logits.length; offset += vocab) {
                Sequence s = rows.get(r++);
                if (!s.finished()) {
                    s.accept(logits, offset, vocab);
                    if (s.finished()) {
                        leave(s);
                    }
                }
            }
        }
    }

    /** Rows that finished (or were cancelled) since the last step leave the batch and the cache. */
    private void dropFinished() {
        int[] keep = IntStream.range(0, rows.size()).filter(r -> !rows.get(r).finished()).toArray();
        if (keep.length == rows.size()) {
            return;
        }
        List<Sequence> kept = Arrays.stream(keep).mapToObj(rows::get).toList();
        if (kept.isEmpty()) {
            closeCache();
        } else {
            cache.retainRows(keep);   // before rows change: if it fails, the step's error handler sees every row
        }
        rows.clear();
        rows.addAll(kept);
    }

    /** One-token decode of every row in the cache; next-token logits {@code [rows * vocab]}. */
    private float[] decode() {
        int b = rows.size();
        long[] last = new long[b];
        for (int r = 0; r < b; r++) {
            last[r] = rows.get(r).lastToken();
        }
        try (MixedAdapterModel m = registry.withAdapters(rows.stream().map(Sequence::adapter).toList())) {
            float[] logits = m.forwardLast(manager.create(last, new Shape(b, 1)), null, cache).toFloatArray();
            metrics.step(b);
            return logits;
        }
    }

    /**
     * Joining rows sorted by length and cut into groups whose left padding stays below half their real tokens
     * (plus 16), so a short prompt is not padded to a long one.
     */
    static <T> List<List<T>> groups(List<T> joining, ToIntFunction<T> length) {
        List<T> sorted = new ArrayList<>(joining);
        sorted.sort(Comparator.comparingInt(length));
        List<List<T>> out = new ArrayList<>();
        List<T> group = new ArrayList<>();
        long real = 0;
        for (T s : sorted) {
            int len = length.applyAsInt(s);
            long padded = (long) (group.size() + 1) * len;
            if (!group.isEmpty() && padded - (real + len) > (real + len) / 2 + 16) {
                out.add(group);
                group = new ArrayList<>();
                real = 0;
            }
            group.add(s);
            real += len;
        }
        if (!group.isEmpty()) {
            out.add(group);
        }
        return out;
    }

    private static List<List<Sequence>> groups(List<Sequence> joining) {
        return groups(joining, s -> s.promptTokens() + s.generatedTokens());
    }

    /**
     * Left-padded prefill of {@code group}'s tokens into a cache of their own, which then joins the batch's cache
     * (or becomes it); the group's next-token logits {@code [group * vocab]}.
     */
    private float[] prefill(List<Sequence> group) {
        int b = group.size();
        long[][] tokens = new long[b][];
        int width = 0;
        for (int r = 0; r < b; r++) {
            tokens[r] = group.get(r).allTokens();
            width = Math.max(width, tokens[r].length);
        }
        long[] ids = new long[b * width];
        long[] mask = new long[b * width];
        boolean padded = false;
        for (int r = 0; r < b; r++) {
            int offset = width - tokens[r].length;
            padded |= offset > 0;
            Arrays.fill(ids, r * width, r * width + offset, padId);
            System.arraycopy(tokens[r], 0, ids, r * width + offset, tokens[r].length);
            Arrays.fill(mask, r * width + offset, (r + 1) * width, 1L);
        }
        metrics.prefill((long) b * width);
        int chunk = Math.max(16, PREFILL_POSITIONS / b);
        float[] logits = null;
        KvCache fresh = model.newKvCache(b);
        try (MixedAdapterModel m = registry.withAdapters(group.stream().map(Sequence::adapter).toList())) {
            for (int from = 0; from < width; from += chunk) {   // each chunk in its own scope: bounded activations
                int to = Math.min(width, from + chunk);
                try (NDScope scope = new NDScope()) {
                    NDArray maskArray = padded
                            ? manager.create(columns(mask, b, width, from, to), new Shape(b, to - from)) : null;
                    NDArray out = m.forwardLast(manager.create(columns(ids, b, width, from, to),
                            new Shape(b, to - from)), maskArray, fresh);
                    if (to == width) {
                        logits = out.toFloatArray();
                    }
                }
            }
            if (cache == null) {
                cache = fresh;
                fresh = null;
            } else {
                cache.appendRows(fresh);
            }
            rows.addAll(group);
        } finally {
            if (fresh != null) {
                fresh.close();
            }
        }
        return logits;
    }

    /** Columns {@code [from, to)} of a row-major {@code [b, width]} array. */
    private static long[] columns(long[] a, int b, int width, int from, int to) {
        long[] out = new long[b * (to - from)];
        for (int r = 0; r < b; r++) {
            System.arraycopy(a, r * width + from, out, r * (to - from), to - from);
        }
        return out;
    }

    private int live() {
        int n = 0;
        for (Sequence s : rows) {
            n += s.finished() ? 0 : 1;
        }
        return n;
    }

    /** Rows whose client went away leave now (the next step drops them from the cache). */
    private void dropCancelled() {
        for (Sequence s : rows) {
            if (!s.finished() && s.cancelled()) {
                metrics.cancelled();
                s.fail(new ApiError(499, "client_closed", null, null, "client closed the request"));
                leave(s);
            }
        }
    }

    private void leave(Sequence s) {
        running = live();
        metrics.tokens(s.adapter(), s.promptTokens(), s.generatedTokens());
        onLeave.accept(s);
    }

    private void closeCache() {
        if (cache != null) {
            cache.close();
            cache = null;
        }
    }

    private static List<Sequence> concat(List<Sequence> a, List<Sequence> b) {
        List<Sequence> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Stops the scheduler after its current step; waiting and running rows fail with 503. */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ApiError error = new ApiError(503, "server_error", null, null, "the server is shutting down");
        List<Sequence> left;
        synchronized (lock) {
            left = concat(rows, new ArrayList<>(pending));
            pending.clear();
        }
        for (Sequence s : left) {
            if (!s.finished()) {
                s.fail(error);
                leave(s);
            }
        }
        rows.clear();
        closeCache();
        manager.close();
    }
}
