package io.peft4j.spark;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.spark.internal.TaskTrainer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Adapters per hour of {@link ManyAdapters} on a {@link StandaloneCluster} of 1, then 2 Workers (1 core, one
 * executor each) on this machine, and each executor's memory: its resident set once registered (JVM + Spark, no
 * model) and its peak ({@code VmHWM} of {@code /proc/<pid>/status}) after the job, so peak - idle = the base model
 * (loaded once per executor) + libtorch + the adapters trained there. Prints one JSON object. Run through
 * {@code scripts/bench/spark.sh}, which builds the classpath and passes Spark's JVM flags:
 *
 * <pre>{@code
 * scripts/bench/spark.sh --model ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf --tasks 8 --steps 10
 * scripts/bench/spark.sh            # a tiny random model: measures the job's overhead, not training
 * }</pre>
 *
 * Options: {@code --model PATH} (default: a tiny random model), {@code --tasks N} (8), {@code --steps S} (10),
 * {@code --batch-size B} (2), {@code --max-seq-len L} (64), {@code --quantize Q} (none), {@code --workers 1,2},
 * {@code --executor-memory-gb G} (2).
 */
public final class StandaloneClusterBench {
    private static final String[][] RECORDS = {
        {"list the red", "", "red blue green"}, {"the capital of france", "", "paris"},
        {"list all", "one", "one two three"}, {"hello paris", "", "hello france"},
        {"the one", "", "two three"}, {"capital of france is", "e", "paris is the capital"}};

    private StandaloneClusterBench() {
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Path dir = Files.createTempDirectory("peft4j-spark-bench-");
        try {
            String model = o.model != null ? o.model : TinyHfFolder.write(dir.resolve("tiny"), 7L).toString();
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put("model", model).put("quantize", o.quantize).put("tasks", o.tasks).put("steps", o.steps)
                    .put("batch_size", o.batchSize).put("max_seq_len", o.maxSeqLen)
                    .put("cpus", Runtime.getRuntime().availableProcessors());
            ArrayNode runs = out.putArray("runs");
            List<String> jars = StandaloneCluster.classpath().stream().filter(e -> e.endsWith(".jar")).toList();
            for (int workers : o.workers) {
                runs.add(run(dir.resolve("cluster-" + workers), workers, jars, model, o));
            }
            System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
        } finally {
            io.peft4j.core.io.AtomicFolder.deleteTree(dir);
        }
    }

    private static ObjectNode run(Path dir, int workers, List<String> jars, String model, Options o)
            throws Exception {
        ObjectNode r = Json.MAPPER.createObjectNode().put("workers", workers);
        try (StandaloneCluster cluster = StandaloneCluster.start(dir, workers, jars)) {
            SparkSession spark = cluster.session("peft4j-spark-bench-" + workers, o.executorMemoryGb).getOrCreate();
            try {
                long[] idleKb = new long[workers];
                for (int w = 0; w < workers; w++) {
                    idleKb[w] = awaitExecutor(cluster, w);
                }
                List<Row> rows = new ArrayList<>();
                for (int t = 0; t < o.tasks; t++) {
                    for (int k = 0; k < RECORDS.length; k++) {
                        String[] rec = RECORDS[(k + t) % RECORDS.length];
                        rows.add(RowFactory.create(String.format("task-%03d", t), rec[0], rec[1], rec[2], "train"));
                    }
                }
                Path out = dir.resolve("adapters");
                ManyAdapters job = ManyAdapters.builder().setModelPath(model).setOutputDir(out.toString())
                        .optQuantization(o.quantize).optPartitions(o.tasks).optTraining(TrainingOptions.builder()
                                .optMaxSteps(o.steps).optBatchSize(o.batchSize).optMaxSeqLen(o.maxSeqLen).build())
                        .build();
                long start = System.nanoTime();
                List<Row> summary = job.run(spark.createDataFrame(rows, ManyAdaptersLocalTest.RECORDS))
                        .collectAsList();
                double seconds = (System.nanoTime() - start) / 1e9;
                long trained = summary.stream().filter(s -> s.getString(1).equals(TaskTrainer.TRAINED)).count();
                double[] taskSeconds = summary.stream().mapToDouble(s -> s.getDouble(6)).sorted().toArray();
                r.put("job_seconds", round(seconds)).put("adapters", trained)
                        .put("adapters_per_hour", round(trained * 3600 / seconds))
                        .put("task_seconds_median", round(taskSeconds[taskSeconds.length / 2]))
                        .put("task_seconds_max", round(taskSeconds[taskSeconds.length - 1]))
                        .put("adapter_file_kb", Files.size(out.resolve(summary.get(0).getString(0))
                                .resolve("adapter_model.safetensors")) / 1024);
                ArrayNode execs = r.putArray("executors");
                java.util.Map<String, Integer> workerOf = cluster.executorWorkers(spark.sparkContext()
                        .applicationId());
                for (int w = 0; w < workers; w++) {
                    Integer worker = w;
                    for (ProcessHandle h : cluster.executors(w)) {
                        long tasksHere = summary.stream().filter(s -> worker.equals(workerOf.get(s.getString(8))))
                                .count();
                        execs.addObject().put("worker", w).put("pid", h.pid())
                                .put("idle_rss_mb", idleKb[w] / 1024).put("peak_rss_mb", status(h.pid(), "VmHWM") / 1024)
                                .put("rss_after_mb", status(h.pid(), "VmRSS") / 1024).put("tasks", tasksHere);
                    }
                }
            } finally {
                spark.stop();
            }
        }
        return r;
    }

    /** Waits until Worker {@code w}'s executor runs and has registered, then returns its resident set in kB. */
    private static long awaitExecutor(StandaloneCluster cluster, int w) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            List<ProcessHandle> execs = cluster.executors(w);
            if (!execs.isEmpty() && SparkSession.active().sparkContext().statusTracker().getExecutorInfos().length
                    > cluster.workers().size()) {       // the driver counts itself too
                Thread.sleep(2000);                     // let the executor finish its start-up allocations
                return status(execs.get(0).pid(), "VmRSS");
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("worker " + w + " launched no executor in 120 s");
    }

    /** A {@code kB} field of {@code /proc/<pid>/status} ({@code VmHWM}, {@code VmRSS}). */
    static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").strip());
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/status");
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private record Options(String model, int tasks, int steps, int batchSize, int maxSeqLen, String quantize,
                           int[] workers, int executorMemoryGb) {
        static Options parse(String[] args) {
            String model = null;
            String quantize = "none";
            int tasks = 8;
            int steps = 10;
            int batch = 2;
            int seq = 64;
            int mem = 2;
            int[] workers = {1, 2};
            for (int i = 0; i < args.length; i++) {
                String v = i + 1 < args.length ? args[i + 1] : null;
                if (v == null) {
                    throw new IllegalArgumentException(args[i] + " needs a value");
                }
                switch (args[i++]) {
                    case "--model" -> model = v;
                    case "--tasks" -> tasks = Integer.parseInt(v);
                    case "--steps" -> steps = Integer.parseInt(v);
                    case "--batch-size" -> batch = Integer.parseInt(v);
                    case "--max-seq-len" -> seq = Integer.parseInt(v);
                    case "--quantize" -> quantize = v;
                    case "--executor-memory-gb" -> mem = Integer.parseInt(v);
                    case "--workers" -> workers = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                    default -> throw new IllegalArgumentException("unknown option " + args[i - 1]);
                }
            }
            return new Options(model, tasks, steps, batch, seq, quantize, workers, mem);
        }
    }
}
