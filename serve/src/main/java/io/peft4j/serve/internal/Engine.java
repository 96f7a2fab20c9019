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
import java.util.List;
import java.util.function.Consumer;

/**
 * The scheduler: one thread doing continuous (iteration-level) batching over one base model and its
 * {@link AdapterRegistry}. Each step is one forward of every running row, each row through its own adapter (a
 * {@link MixedAdapterModel} opened for that step only, so adapter loads and unloads get in between steps); rows that
 * arrived meanwhile join at the next step and finished rows leave at once (their text is complete; their slot in the
 * batch is dead until the next join).
 *
 * <p>KV cache: {@link KvCache} cannot add or drop rows, so the batch keeps one cache and <b>rebuilds it when rows
 * join</b>: one left-padded prefill of every live row's prompt and generated tokens, which also yields every row's
 * next-token logits (so a rebuild replaces that step's decode). Cost: a join prefills all live rows again (see
 * {@code peft4j_cache_rebuild_tokens_total}), padded to the longest; steps without joins are plain one-token decodes.
 * Dead rows keep decoding padding until the next rebuild drops them. The prefill runs in chunks of positions, each
 * in its own {@link NDScope}, since a forward keeps every layer's intermediates until its scope closes.
 *
 * <p>Every step runs in an {@link NDScope} under {@link Inference}; the only arrays that outlive a step are the
 * cache's. Thread-safe: {@link #submit} and {@link Sequence#cancel} from any thread.
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
                for (int free = maxBatch - live(); free > 0 && !pending.isEmpty(); ) {
                    Sequence s = pending.poll();
                    if (s.cancelled()) {
                        leave(s);
                    } else {
                        joining.add(s);
                        free--;
                    }
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

    /** One forward of the batch: a rebuild prefill when rows join (or there is no cache), else a decode. */
    private void step(List<Sequence> joining) {
        boolean rebuild = cache == null || !joining.isEmpty();
        if (rebuild) {
            List<Sequence> batch = new ArrayList<>();
            rows.stream().filter(s -> !s.finished()).forEach(batch::add);
            batch.addAll(joining);
            rows.clear();
            rows.addAll(batch);
            running = rows.size();
            closeCache();
        }
        int b = rows.size();
        List<String> names = rows.stream().map(s -> s.finished() ? AdapterRegistry.BASE : s.adapter()).toList();
        float[] logits;
        try (Inference.Scope inference = Inference.enter(); NDScope scope = new NDScope();
             MixedAdapterModel m = registry.withAdapters(names)) {
            if (rebuild) {
                cache = model.newKvCache(b);
                logits = prefill(m);
            } else {
                long[] last = new long[b];
                for (int r = 0; r < b; r++) {
                    last[r] = rows.get(r).finished() ? padId : rows.get(r).lastToken();
                }
                logits = m.forwardLast(manager.create(last, new Shape(b, 1)), null, cache).toFloatArray();
            }
        }
        metrics.step(b);
        for (int r = 0; r < b; r++) {
            Sequence s = rows.get(r);
            if (!s.finished()) {
                s.accept(logits, r * vocab, vocab);
                if (s.finished()) {
                    leave(s);
                }
            }
        }
    }

    /** Left-padded prefill of every row's prompt and generated tokens into the fresh cache; next-token logits. */
    private float[] prefill(MixedAdapterModel m) {
        int b = rows.size();
        long[][] tokens = new long[b][];
        int width = 0;
        for (int r = 0; r < b; r++) {
            tokens[r] = rows.get(r).allTokens();
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
        metrics.rebuild((long) b * width);
        int chunk = Math.max(16, PREFILL_POSITIONS / b);
        float[] logits = null;
        for (int from = 0; from < width; from += chunk) {   // each chunk in its own scope: bounded activations
            int to = Math.min(width, from + chunk);
            try (NDScope scope = new NDScope()) {
                NDArray maskArray = padded ? manager.create(columns(mask, b, width, from, to), new Shape(b, to - from))
                        : null;
                NDArray out = m.forwardLast(manager.create(columns(ids, b, width, from, to), new Shape(b, to - from)),
                        maskArray, cache);
                if (to == width) {
                    logits = out.toFloatArray();
                }
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

    /** Rows whose client went away leave now (their slot goes dead). */
    private void dropCancelled() {
        for (Sequence s : rows) {
            if (!s.finished() && s.cancelled()) {
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
