package io.peft4j.spark;

import io.peft4j.core.io.OutputLock;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.spark.internal.TaskTrainer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ManyAdapters} on a real multi-process Spark standalone cluster ({@link StandaloneCluster}: a Master and two
 * Workers started by the test as separate JVMs, each Worker launching its own executor JVM), the driver in this JVM.
 * Six tasks on a tiny random model: the tasks run on both Workers (the summary's {@code executor} column and the
 * executors' own logs say so), and every adapter is byte-identical to the same task trained alone by the
 * single-process {@code finetune} path (on one libtorch thread, as the executors). That first job writes to a Hadoop
 * file system URI ({@link TestSchemeFileSystem}, {@code peft4jtest:///...}, registered only through the session's
 * {@code spark.hadoop.*} setting), so the executors publish through Hadoop's {@code FileSystem} API with the
 * configuration the driver ships. Then a second job of the same
 * application, in which Worker 1 and its executor are killed (SIGKILL, the process tree) in the middle of a task
 * once the first adapter is complete: the executor is held right after taking the task's output lock (a
 * {@code CrashPoint} pause that only Worker 1's executors get, through {@code JAVA_TOOL_OPTIONS} in that Worker's
 * environment), so the kill always lands mid-task. Spark reruns the lost work on Worker 0, the interrupted task is
 * trained again there, the job completes and every adapter is again byte-identical to its reference. Needs
 * nothing beyond the test classpath and {@code java}: the cluster's {@code SPARK_HOME/jars} links this JVM's jars.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    static final int TASKS = 6;
    static final int STEPS = 64;
    static final double LR = 0.1;
    static final int BATCH = 2;
    static final int MAX_SEQ = 64;

    @TempDir
    static Path tmp;
    static Path model;
    static StandaloneCluster cluster;
    static int threadsBefore;
    static SparkSession spark;
    static String app;
    static Path go;
    static final Map<String, List<String[]>> RECORDS = new LinkedHashMap<>();
    static final Map<String, Path> REFERENCES = new LinkedHashMap<>();

    @BeforeAll
    static void startCluster() throws Exception {
        model = TinyHfFolder.write(tmp.resolve("tiny"), 7L);
        List<List<String[]>> bases = new ArrayList<>(ManyAdaptersLocalTest.TASKS.values());
        List<String> names = new ArrayList<>(ManyAdaptersLocalTest.TASKS.keySet());
        for (int k = 0; k < TASKS; k++) {        // six tasks: the local test's three, each in two record orders
            List<String[]> recs = new ArrayList<>(bases.get(k % bases.size()));
            java.util.Collections.rotate(recs, k / bases.size());
            RECORDS.put(names.get(k % names.size()) + "-" + k, recs);
        }
        // libtorch's sums depend on its intra-op thread count, and Spark 4 sets OMP_NUM_THREADS = spark.task.cpus
        // (1) on executors: the references train here on one thread too (restored after), as
        // `OMP_NUM_THREADS=1 peft4j finetune` would
        ai.djl.engine.Engine.getEngine("PyTorch");
        threadsBefore = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
        try {
            for (String task : RECORDS.keySet()) {
                REFERENCES.put(task, trainAlone(task));
            }
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threadsBefore);
        }
        List<String> jars = StandaloneCluster.classpath().stream().filter(e -> e.endsWith(".jar")
                && Files.isRegularFile(Path.of(e))).toList();
        // worker 1's executors pause on taking a task's output lock while the file `go` is absent (CrashPoint)
        go = Files.writeString(tmp.resolve("go"), "");
        cluster = StandaloneCluster.start(tmp.resolve("cluster"), 1, jars);
        cluster.addWorker(Map.of("JAVA_TOOL_OPTIONS", "-Dpeft4j.pauseAt=" + OutputLock.ACQUIRED
                + " -Dpeft4j.pauseFile=" + go));
        spark = cluster.session("peft4j-standalone-it", 1).config("spark.hadoop.fs." + TestSchemeFileSystem.SCHEME
                + ".impl", TestSchemeFileSystem.class.getName()).getOrCreate();
        app = spark.sparkContext().applicationId();
    }

    @AfterAll
    static void stopCluster() {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    static ManyAdapters job(String out) {
        return ManyAdapters.builder().setModelPath(model.toString()).setOutputDir(out).optPartitions(TASKS)
                .optTraining(TrainingOptions.builder().optMaxSteps(STEPS).optLearningRate(LR).optBatchSize(BATCH)
                        .optMaxSeqLen(MAX_SEQ).build()).build();
    }

    static Dataset<Row> records(SparkSession spark) {
        List<Row> rows = new ArrayList<>();
        RECORDS.forEach((task, recs) -> recs.forEach(r -> rows.add(RowFactory.create(task, r[0], r[1], r[2],
                "train"))));
        return spark.createDataFrame(rows, ManyAdaptersLocalTest.RECORDS);
    }

    /** The task trained alone by the single-process finetune path, into {@code reference/<task>}. */
    static Path trainAlone(String task) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String[] r : RECORDS.get(task)) {
            lines.add(io.peft4j.core.Json.MAPPER.createObjectNode().put("instruction", r[0]).put("input", r[1])
                    .put("output", r[2]).toString());
        }
        Path data = Files.write(tmp.resolve(task + ".jsonl"), lines);
        Path ref = tmp.resolve("reference").resolve(task);
        SingleProcess.finetune(model, data, ref, STEPS, LR, BATCH, MAX_SEQ);
        return ref;
    }

    static void assertAdaptersEqualReferences(Path out, List<Row> summary) throws Exception {
        assertEquals(TASKS, summary.size());
        assertEquals(RECORDS.keySet(), new HashSet<>(summary.stream().map(r -> r.getString(0)).toList()),
                "one summary row per task");
        for (String task : RECORDS.keySet()) {
            for (String f : List.of("adapter_model.safetensors", "adapter_config.json")) {
                assertArrayEquals(Files.readAllBytes(REFERENCES.get(task).resolve(f)),
                        Files.readAllBytes(out.resolve(task).resolve(f)),
                        task + "/" + f + " differs from the task trained alone");
            }
        }
        try (var s = Files.list(out)) {
            assertEquals(RECORDS.keySet(), new HashSet<>(s.map(p -> p.getFileName().toString()).toList()),
                    "no temp or old folders beside the adapters");
        }
    }

    @Test
    @Order(1)
    void sixTasks_runOnBothWorkers_bitIdenticalToSingleProcess() throws Exception {
        Path out = tmp.resolve("adapters-1");
        List<Row> summary = job(TestSchemeFileSystem.uri(out)).run(records(spark)).collectAsList();
        Map<String, Integer> workerOf = cluster.executorWorkers(app);
        Set<Integer> workersUsed = new TreeSet<>();
        for (Row r : summary) {
            assertEquals(TaskTrainer.TRAINED, r.getString(1), r.getString(0));
            assertEquals(STEPS, r.getLong(3), r.getString(0));
            assertEquals(TestSchemeFileSystem.uri(out) + "/" + r.getString(0), r.getString(7));
            Integer worker = workerOf.get(r.getString(8));
            assertTrue(worker != null, "executor " + r.getString(8) + " of " + r.getString(0) + " is one of the "
                    + "Workers' executors " + workerOf);
            workersUsed.add(worker);
        }
        assertEquals(Set.of(0, 1), workersUsed, "tasks ran on both Workers: " + summary);
        for (int w = 0; w < 2; w++) {
            String logs = executorLogs(w);
            List<String> logged = RECORDS.keySet().stream().filter(t -> logs.contains("task " + t + ": ")).toList();
            assertFalse(logged.isEmpty(), "worker " + w + "'s executor log names the tasks it trained:\n" + logs);
        }
        assertAdaptersEqualReferences(out, summary);
    }

    @Test
    @Order(2)
    void killOneWorkerMidTask_jobCompletes_everyAdapterByteIdentical() throws Exception {
        Path out = tmp.resolve("adapters-2");
        Path paused = go.resolveSibling(go.getFileName() + ".reached");
        Files.delete(go);                   // worker 1's executor now holds at its next task, its lock taken
        try {
            CompletableFuture<List<Row>> running = CompletableFuture.supplyAsync(() -> job(out.toString())
                    .run(records(spark)).collectAsList());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(paused) || RECORDS.keySet().stream()
                    .noneMatch(t -> TaskTrainer.isComplete(out.resolve(t)))) {
                assertTrue(System.nanoTime() < deadline, "no adapter complete with worker 1 held, after 120 s");
                assertFalse(running.isDone(), "the job ended before worker 1 could be killed mid-task");
                Thread.sleep(20);
            }
            String pid = Files.readString(paused).strip();
            String task = RECORDS.keySet().stream().filter(t -> !TaskTrainer.isComplete(out.resolve(t))
                    && lockHolder(out.resolve(t)).equals(pid)).findFirst().orElseThrow();
            assertTrue(cluster.executors(1).stream().anyMatch(h -> Long.toString(h.pid()).equals(pid)),
                    "the held executor " + pid + " is worker 1's");
            cluster.kill(1);                // its executor is held with the task's lock: the task is cut mid-way
            assertFalse(cluster.workers().get(1).isAlive());
            List<Row> summary = running.get(5, TimeUnit.MINUTES);
            for (Row r : summary) {
                assertTrue(Set.of(TaskTrainer.TRAINED, TaskTrainer.SKIPPED).contains(r.getString(1)), r.toString());
                assertEquals(STEPS, r.getLong(3), r.getString(0));
            }
            Row retried = summary.stream().filter(r -> r.getString(0).equals(task)).findFirst().orElseThrow();
            assertEquals(TaskTrainer.TRAINED, retried.getString(1), retried.toString());
            assertEquals(0, cluster.executorWorkers(app).get(retried.getString(8)),
                    task + ", killed on worker 1, was trained again on worker 0: " + summary);
            assertAdaptersEqualReferences(out, summary);
        } finally {
            Files.writeString(go, "");
        }
    }

    /** The PID in a task folder's output lock file, or "" without one. */
    private static String lockHolder(Path taskDir) {
        try {
            Path lock = taskDir.resolve(OutputLock.FILE_NAME);
            return Files.exists(lock) ? Files.readString(lock).strip() : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static String executorLogs(int worker) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (Path exec : cluster.executorDirs(worker, app)) {
            Path stderr = exec.resolve("stderr");
            if (Files.exists(stderr)) {
                sb.append(Files.readString(stderr));
            }
        }
        return sb.toString();
    }
}
