package io.peft4j.serve.internal;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The server's counters, rendered in Prometheus' text format for {@code GET /metrics}: requests and tokens per
 * adapter, HTTP errors per status, choices cancelled because their client went away, queue depth and running rows,
 * a histogram of decode batch sizes, prefills of joining rows and live NDArrays. Thread-safe (atomics).
 */
public final class EngineMetrics {
    private static final int[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};

    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();      // adapter -> requests
    private final Map<String, AtomicLong> promptTokens = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> generationTokens = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicLong> errors = new ConcurrentHashMap<>();       // status -> count
    private final AtomicLongArray batchBuckets = new AtomicLongArray(BATCH_BUCKETS.length);
    private final AtomicLong batchCount = new AtomicLong();
    private final AtomicLong batchSum = new AtomicLong();
    private final AtomicLong prefills = new AtomicLong();
    private final AtomicLong prefillTokens = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private volatile IntSupplier queueDepth = () -> 0;
    private volatile IntSupplier running = () -> 0;
    private volatile LongSupplier liveArrays = () -> 0;

    void bind(IntSupplier queue, IntSupplier rows, LongSupplier arrays) {
        this.queueDepth = queue;
        this.running = rows;
        this.liveArrays = arrays;
    }

    /** One request (of any number of choices) accepted for {@code adapter}. */
    public void request(String adapter) {
        requests.computeIfAbsent(adapter, a -> new AtomicLong()).incrementAndGet();
    }

    /** Tokens of one finished choice. */
    void tokens(String adapter, int prompt, int generated) {
        promptTokens.computeIfAbsent(adapter, a -> new AtomicLong()).addAndGet(prompt);
        generationTokens.computeIfAbsent(adapter, a -> new AtomicLong()).addAndGet(generated);
    }

    /** An error response with {@code status}. */
    public void error(int status) {
        errors.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    /** One decode step over {@code rows} rows. */
    void step(int rows) {
        batchCount.incrementAndGet();
        batchSum.addAndGet(rows);
        for (int i = 0; i < BATCH_BUCKETS.length; i++) {
            if (rows <= BATCH_BUCKETS[i]) {
                batchBuckets.incrementAndGet(i);
            }
        }
    }

    /** Joining rows were prefilled: one forward of {@code tokens} row-positions (left padding included). */
    void prefill(long tokens) {
        prefills.incrementAndGet();
        prefillTokens.addAndGet(tokens);
    }

    /** One choice left unfinished because its client went away (streaming or not). */
    void cancelled() {
        cancelled.incrementAndGet();
    }

    public long generatedTokens() {
        return generationTokens.values().stream().mapToLong(AtomicLong::get).sum();
    }

    public long liveArrays() {
        return liveArrays.getAsLong();
    }

    /** Prometheus text exposition format 0.0.4. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        perAdapter(sb, "peft4j_requests_total", "Completion requests accepted, per model (adapter or base).",
                requests);
        perAdapter(sb, "peft4j_prompt_tokens_total", "Prompt tokens of finished choices, per model.", promptTokens);
        perAdapter(sb, "peft4j_generation_tokens_total", "Generated tokens of finished choices, per model.",
                generationTokens);
        sb.append("# HELP peft4j_http_errors_total Error responses, per status code.\n");
        sb.append("# TYPE peft4j_http_errors_total counter\n");
        new TreeMap<>(errors).forEach((s, v) -> sb.append("peft4j_http_errors_total{status=\"").append(s)
                .append("\"} ").append(v.get()).append('\n'));
        gauge(sb, "peft4j_queue_depth", "Choices waiting to join the running batch.", queueDepth.getAsInt());
        gauge(sb, "peft4j_running_rows", "Choices in the running batch.", running.getAsInt());
        gauge(sb, "peft4j_live_ndarrays", "Live NDArrays under the model's manager (weights included).",
                liveArrays.getAsLong());
        counter(sb, "peft4j_prefills_total", "Prefills of joining rows (one per group of similar prompt lengths).",
                prefills.get());
        counter(sb, "peft4j_prefill_tokens_total", "Row-positions prefilled for joining rows, left padding included.",
                prefillTokens.get());
        counter(sb, "peft4j_cancelled_choices_total", "Choices cancelled unfinished because their client went away.",
                cancelled.get());
        sb.append("# HELP peft4j_batch_size Rows per decode step.\n# TYPE peft4j_batch_size histogram\n");
        for (int i = 0; i < BATCH_BUCKETS.length; i++) {
            sb.append("peft4j_batch_size_bucket{le=\"").append(BATCH_BUCKETS[i]).append("\"} ")
                    .append(batchBuckets.get(i)).append('\n');
        }
        sb.append("peft4j_batch_size_bucket{le=\"+Inf\"} ").append(batchCount.get()).append('\n');
        sb.append("peft4j_batch_size_sum ").append(batchSum.get()).append('\n');
        sb.append("peft4j_batch_size_count ").append(batchCount.get()).append('\n');
        return sb.toString();
    }

    private static void perAdapter(StringBuilder sb, String name, String help, Map<String, AtomicLong> values) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" counter\n");
        new TreeMap<>(values).forEach((a, v) -> sb.append(name).append("{model=\"").append(escape(a))
                .append("\"} ").append(v.get()).append('\n'));
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(value).append('\n');
    }

    private static String escape(String label) {
        return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
