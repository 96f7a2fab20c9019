package io.peft4j.spark;

import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.spark.internal.HadoopFolders;
import io.peft4j.spark.internal.InferJob;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outputs and inputs on a Hadoop file system, in {@code local[2]} on the tiny model of {@link ManyAdaptersLocalTest}
 * (its tasks and settings): the output folder is a {@link TestSchemeFileSystem} URI ({@code peft4jtest:///...}),
 * which only Hadoop's {@code FileSystem} API can open. Adapters published there are byte-identical to the same job's
 * local output; a rename that fails after the copy leaves no folder under the task's name and a re-run trains only
 * that task (removing a failed attempt's temp folder and an incomplete final folder); batch inference with the
 * adapter root on the scheme equals the local root row by row, copying each adapter once; a folder of task folders
 * reads the same records through the scheme.
 */
class ManyAdaptersHadoopTest {
    static final List<String> FILES = List.of("adapter_config.json", "adapter_model.safetensors");

    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static Path local;
    static Path remote;
    static List<Row> summary;
    static int creates;
    static int renames;

    @BeforeAll
    static void trainLocallyAndOnTheTestScheme() throws Exception {
        model = TinyHfFolder.write(tmp.resolve("tiny"), 7L);
        spark = SparkSession.builder().master("local[2]").appName("peft4j-spark-hadoop-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.hadoop.fs." + TestSchemeFileSystem.SCHEME + ".impl",
                        TestSchemeFileSystem.class.getName())
                .getOrCreate();
        local = tmp.resolve("local");
        remote = tmp.resolve("remote");
        job(local.toString()).run(records()).collectAsList();
        int c0 = TestSchemeFileSystem.CREATES.get();
        int r0 = TestSchemeFileSystem.RENAMES.get();
        summary = job(TestSchemeFileSystem.uri(remote)).run(records()).collectAsList();
        creates = TestSchemeFileSystem.CREATES.get() - c0;
        renames = TestSchemeFileSystem.RENAMES.get() - r0;
    }

    @AfterAll
    static void stop() {
        TestSchemeFileSystem.failRenameTo = null;
        if (spark != null) {
            spark.stop();
        }
    }

    static ManyAdapters job(String output) {
        return ManyAdapters.builder().setModelPath(model.toString()).setOutputDir(output).optPartitions(2)
                .optTraining(TrainingOptions.builder().optMaxSteps(ManyAdaptersLocalTest.STEPS)
                        .optLearningRate(ManyAdaptersLocalTest.LR).optBatchSize(ManyAdaptersLocalTest.BATCH)
                        .optMaxSeqLen(ManyAdaptersLocalTest.MAX_SEQ).build()).build();
    }

    static Dataset<Row> records() {
        List<Row> rows = new ArrayList<>();
        ManyAdaptersLocalTest.TASKS.forEach((task, recs) -> recs.forEach(r -> rows.add(
                RowFactory.create(task, r[0], r[1], r[2], "train"))));
        return spark.createDataFrame(rows, ManyAdaptersLocalTest.RECORDS);
    }

    static Set<String> names(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void assertSameAdapter(String task, Path dir) throws Exception {
        for (String f : FILES) {
            assertArrayEquals(Files.readAllBytes(local.resolve(task).resolve(f)), Files.readAllBytes(dir.resolve(f)),
                    task + "/" + f + " differs from the local output");
        }
    }

    @Test
    void hadoopOutput_isByteIdenticalToLocalOutput_andWrittenThroughTheScheme() throws Exception {
        Set<String> tasks = ManyAdaptersLocalTest.TASKS.keySet();
        assertEquals(tasks.size(), summary.size());
        for (Row r : summary) {
            String task = r.getString(0);
            assertEquals("trained", r.getString(1), task);
            assertEquals(ManyAdaptersLocalTest.STEPS, r.getLong(3), task);
            assertEquals(TestSchemeFileSystem.uri(remote) + "/" + task, r.getString(7), "the summary shows the URI");
            assertSameAdapter(task, remote.resolve(task));
            assertEquals(new TreeSet<>(FILES), names(remote.resolve(task)), "only the adapter's files, no lock");
        }
        assertEquals(new TreeSet<>(tasks), names(remote), "no temp folders left beside the adapters");
        assertEquals(2 * tasks.size(), creates, "every adapter file was created through the scheme");
        assertEquals(tasks.size(), renames, "one rename publishes each adapter");

        List<Row> again = job(TestSchemeFileSystem.uri(remote)).run(records()).collectAsList();
        for (Row r : again) {
            assertEquals("skipped", r.getString(1), r.getString(0));
            assertEquals(ManyAdaptersLocalTest.STEPS, r.getLong(3), "steps read from the published adapter");
        }
    }

    @Test
    void failedPublish_leavesNoFinalFolder_andRerunTrainsOnlyWhatIsMissing() throws Exception {
        Path out = tmp.resolve("remote-failing");
        String uri = TestSchemeFileSystem.uri(out);
        TestSchemeFileSystem.failRenameTo = "numbers";
        try {
            assertThrows(Exception.class, () -> job(uri).run(records()));
        } finally {
            TestSchemeFileSystem.failRenameTo = null;
        }
        assertFalse(Files.exists(out.resolve("numbers")), "no folder under the failed task's name");
        assertTrue(names(out).stream().noneMatch(n -> n.startsWith(".numbers.")), "the failed copy is deleted: "
                + names(out));
        assertTrue(ManyAdaptersLocalTest.TASKS.keySet().stream().filter(t -> !t.equals("numbers"))
                .allMatch(t -> !Files.exists(out.resolve(t)) || names(out.resolve(t)).equals(new TreeSet<>(FILES))),
                "a task folder is complete or absent: " + names(out));

        // what a crash would leave: a failed attempt's temp folder, and a half-renamed final folder (object store)
        Path stale = Files.createDirectories(out.resolve(".numbers.tmp-7-00ff"));
        Files.writeString(stale.resolve("adapter_config.json"), "{");
        Path half = Files.createDirectories(out.resolve("numbers"));
        Files.copy(local.resolve("numbers").resolve("adapter_config.json"), half.resolve("adapter_config.json"));
        Set<String> before = names(out);

        List<Row> rows = job(uri).run(records()).collectAsList();
        for (Row r : rows) {
            String task = r.getString(0);
            boolean wasComplete = before.contains(task) && !task.equals("numbers");
            assertEquals(wasComplete ? "skipped" : "trained", r.getString(1), task);
            assertSameAdapter(task, out.resolve(task));
        }
        assertTrue(rows.stream().anyMatch(r -> r.getString(1).equals("skipped")),
                "the task published before the failure is skipped: " + before);
        assertEquals(new TreeSet<>(ManyAdaptersLocalTest.TASKS.keySet()), names(out), "stale temp folder removed");
    }

    @Test
    void batchInference_adapterRootOnTheScheme_equalsLocalRoot_copyingEachAdapterOnce() {
        StructType schema = new StructType().add("prompt", DataTypes.StringType).add("adapter", DataTypes.StringType);
        List<Row> input = List.of(RowFactory.create("list the red", "colors"),
                RowFactory.create("the capital of france", "capitals"), RowFactory.create("list all", "numbers"),
                RowFactory.create("hello", AdapterRegistry.BASE), RowFactory.create("list the blue", "colors"));
        Dataset<Row> prompts = spark.createDataFrame(input, schema).repartition(2);
        List<Row> expected = infer(local.toString()).run(prompts).collectAsList();
        int copies = HadoopFolders.copies();
        int opens = TestSchemeFileSystem.OPENS.get();
        for (int i = 0; i < 2; i++) {
            assertEquals(expected, infer(TestSchemeFileSystem.uri(remote)).run(prompts).collectAsList(), "run " + i);
        }
        assertEquals(3, HadoopFolders.copies() - copies, "3 adapters copied once each in this JVM over two runs");
        assertEquals(3 * FILES.size(), TestSchemeFileSystem.OPENS.get() - opens, "read through the scheme");
    }

    static BatchInference infer(String root) {
        return BatchInference.builder().setModelPath(model.toString()).optAdapterRoot(root).optMaxNewTokens(4)
                .optBatchSize(3).optMaxLoadedAdapters(3).build();
    }

    @Test
    void folderPerTask_onTheScheme_readsTheSameRecordsInOrder() throws Exception {
        Path root = tmp.resolve("task-folders");
        for (Map.Entry<String, List<String[]>> t : ManyAdaptersLocalTest.TASKS.entrySet()) {
            Path dir = Files.createDirectories(root.resolve(t.getKey()));
            List<String> lines = new ArrayList<>();
            for (String[] r : t.getValue()) {
                lines.add(io.peft4j.core.Json.MAPPER.createObjectNode().put("instruction", r[0]).put("input", r[1])
                        .put("output", r[2]).toString());
            }
            Files.write(dir.resolve("part-1.jsonl"), lines.subList(0, 1));
            Files.write(dir.resolve("part-2.jsonl"), lines.subList(1, lines.size()));
            Files.writeString(dir.resolve("_SUCCESS"), "");
        }
        List<Row> viaScheme = ManyAdapters.readTaskFolders(spark, TestSchemeFileSystem.uri(root))
                .select("task", "instruction", "input", "output").collectAsList();
        assertEquals(ManyAdapters.readTaskFolders(spark, root.toString()).select("task", "instruction", "input",
                "output").collectAsList(), viaScheme);
        List<Row> want = new ArrayList<>();
        ManyAdaptersLocalTest.TASKS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(t -> t.getValue()
                .forEach(r -> want.add(RowFactory.create(t.getKey(), r[0], r[1], r[2]))));
        assertEquals(want, viaScheme);
    }

    @Test
    void locations_resolveLocalPathsAndHadoopUris() {
        assertEquals("hdfs://nn:8020/adapters", SparkPaths.location("hdfs://nn:8020/adapters/", "outputDir"));
        assertEquals("/tmp/x", SparkPaths.location("file:///tmp/x", "outputDir"));
        assertEquals(Path.of("rel").toAbsolutePath().toString(), SparkPaths.location("rel", "outputDir"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparkPaths.location("s3a://b/a b", "outputDir"))
                .getMessage().contains("s3a://b/a b"));
        InferJob onHdfs = new InferJob("m", "none", "hdfs://nn/adapters", null, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, -1, null);
        assertEquals("hdfs://nn/adapters/colors", onHdfs.adapterLocation("colors"));
        assertEquals("/abs/colors", onHdfs.adapterLocation("/abs/colors"));
        assertEquals("s3a://b/x", onHdfs.adapterLocation("s3a://b/x"));
        assertEquals("/tmp/a", onHdfs.adapterLocation("file:/tmp/a"));
    }
}
