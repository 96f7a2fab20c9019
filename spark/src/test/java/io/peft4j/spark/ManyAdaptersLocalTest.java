package io.peft4j.spark;

import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.spark.internal.BaseModels;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both jobs in {@code local[2]} on a tiny random model: three task adapters trained on the executors are
 * bit-for-bit the adapters the single-process {@code finetune} path trains from the same records; a re-run skips
 * them all; the base loads once per JVM; batch inference with mixed adapters equals single-process
 * {@code generate --adapter} row by row, greedy and seeded sampling.
 */
class ManyAdaptersLocalTest {
    static final StructType RECORDS = new StructType().add("task", DataTypes.StringType)
            .add("instruction", DataTypes.StringType).add("input", DataTypes.StringType)
            .add("output", DataTypes.StringType).add("split", DataTypes.StringType);
    static final Map<String, List<String[]>> TASKS = new LinkedHashMap<>();
    static final int STEPS = 3;
    static final double LR = 0.1;
    static final int BATCH = 2;
    static final int MAX_SEQ = 64;

    static {
        TASKS.put("colors", List.of(new String[] {"list the red", "", "red blue green"},
                new String[] {"list the blue", "a", "blue green red"}, new String[] {"list all", "b", "green"},
                new String[] {"the capital", "c", "red red"}));
        TASKS.put("numbers", List.of(new String[] {"list all", "one", "one two three"},
                new String[] {"the one", "", "two three"}, new String[] {"two", "d", "three one"}));
        TASKS.put("capitals", List.of(new String[] {"the capital of france", "", "paris"},
                new String[] {"capital of france is", "e", "paris is the capital"},
                new String[] {"hello paris", "", "hello france"}, new String[] {"france", "", "paris paris"},
                new String[] {"the capital", "", "paris"}));
    }

    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static Path adapters;
    static Dataset<Row> summary;
    static int trainingLoads;

    @BeforeAll
    static void trainOnSpark() throws Exception {
        model = TinyHfFolder.write(tmp.resolve("tiny"), 7L);
        spark = SparkSession.builder().master("local[2]").appName("peft4j-spark-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
        adapters = tmp.resolve("adapters");
        int loadsBefore = BaseModels.loads();
        summary = job().run(records());
        trainingLoads = BaseModels.loads() - loadsBefore;
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    static ManyAdapters job() {
        return ManyAdapters.builder().setModelPath(model.toString()).setOutputDir(adapters.toString())
                .optPartitions(2).optTraining(TrainingOptions.builder().optMaxSteps(STEPS).optLearningRate(LR)
                        .optBatchSize(BATCH).optMaxSeqLen(MAX_SEQ).build()).build();
    }

    static Dataset<Row> records() {
        List<Row> rows = new ArrayList<>();
        TASKS.forEach((task, recs) -> recs.forEach(r -> rows.add(RowFactory.create(task, r[0], r[1], r[2], "train"))));
        rows.add(RowFactory.create("colors", "list the green", "", "green", "eval"));
        return spark.createDataFrame(rows, RECORDS);
    }

    /** The task's training records as the JSONL file a user would pass to {@code peft4j finetune --data}. */
    static Path jsonl(String task) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String[] r : TASKS.get(task)) {
            lines.add(io.peft4j.core.Json.MAPPER.createObjectNode().put("instruction", r[0]).put("input", r[1])
                    .put("output", r[2]).toString());
        }
        return Files.write(tmp.resolve(task + ".jsonl"), lines);
    }

    @Test
    void manyAdapters_equalSingleProcessFinetuneBitForBit() throws Exception {
        List<Row> rows = summary.collectAsList();
        assertEquals(TASKS.size(), rows.size());
        for (Row r : rows) {
            String task = r.getString(0);
            assertEquals("trained", r.getString(1), task);
            assertEquals(TASKS.get(task).size(), r.getLong(2), task);
            assertEquals(STEPS, r.getLong(3), task);
            assertTrue(Double.isFinite(r.getDouble(4)), task);
            assertEquals(task.equals("colors"), !r.isNullAt(5), task + ": eval loss only where eval records are");
            Path ref = tmp.resolve("reference").resolve(task);
            SingleProcess.finetune(model, jsonl(task), ref, STEPS, LR, BATCH, MAX_SEQ);
            for (String f : List.of("adapter_model.safetensors", "adapter_config.json")) {
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(adapters.resolve(task).resolve(f)),
                        task + "/" + f + " differs from the single-process adapter");
            }
        }
        assertEquals(1, trainingLoads, "the base model loads once in this JVM for 3 tasks in 2 partitions");
    }

    @Test
    void folderPerTask_trainsTheSameAdapters() throws Exception {
        Path root = tmp.resolve("task-folders");
        for (Map.Entry<String, List<String[]>> t : TASKS.entrySet()) {
            Path dir = Files.createDirectories(root.resolve(t.getKey()));
            List<String> lines = Files.readAllLines(jsonl(t.getKey()));
            int half = lines.size() / 2;                  // two files per task: their name order is the record order
            Files.write(dir.resolve("part-1.jsonl"), lines.subList(0, half));
            Files.write(dir.resolve("part-2.jsonl"), lines.subList(half, lines.size()));
            Files.writeString(dir.resolve("_SUCCESS"), "");
        }
        Dataset<Row> records = ManyAdapters.readTaskFolders(spark, root.toString());
        assertEquals(TASKS.values().stream().mapToInt(List::size).sum(), records.count());
        Path out = tmp.resolve("adapters-from-folders");
        List<Row> rows = ManyAdapters.builder().setModelPath(model.toString()).setOutputDir(out.toString())
                .optPartitions(2).optTraining(TrainingOptions.builder().optMaxSteps(STEPS).optLearningRate(LR)
                        .optBatchSize(BATCH).optMaxSeqLen(MAX_SEQ).build()).build().run(records).collectAsList();
        assertEquals(TASKS.size(), rows.size());
        for (Row r : rows) {
            String task = r.getString(0);
            assertEquals("trained", r.getString(1), task);
            assertEquals(TASKS.get(task).size(), r.getLong(2), task);
            try (SafetensorsReader a = SafetensorsReader.open(out.resolve(task).resolve("adapter_model.safetensors"));
                 SafetensorsReader b = SafetensorsReader.open(adapters.resolve(task)
                         .resolve("adapter_model.safetensors"))) {
                assertEquals(b.names(), a.names(), task);
                for (String name : a.names()) {
                    assertArrayEquals(b.readFloats(name), a.readFloats(name), task + " " + name);
                }
            }
        }
        Path flat = Files.writeString(tmp.resolve("not-tasks.jsonl"), "{}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ManyAdapters.readTaskFolders(spark, flat.toString()));
        assertTrue(e.getMessage().contains("not a folder of task folders"), e.getMessage());
    }

    @Test
    void rerun_skipsCompleteAdapters_andChangesNothing() throws Exception {
        Path weights = adapters.resolve("numbers").resolve("adapter_model.safetensors");
        byte[] before = Files.readAllBytes(weights);
        List<Row> rows = job().run(records()).collectAsList();
        for (Row r : rows) {
            assertEquals("skipped", r.getString(1), r.getString(0));
            assertEquals(STEPS, r.getLong(3), "steps come from the saved adapter's provenance");
            assertNull(r.get(4));
        }
        assertArrayEquals(before, Files.readAllBytes(weights));
        try (var s = Files.list(adapters)) {
            assertEquals(Set.of("capitals", "colors", "numbers"), new HashSet<>(s.map(p -> p.getFileName().toString())
                    .toList()), "no temp or old folders left beside the adapters");
        }
    }

    @Test
    void batchInference_mixedAdapters_equalsSingleProcessGenerate_rowByRow() throws Exception {
        String[][] rows = {{"list the red", "colors", "red blue green"}, {"the capital of france", "capitals", "paris"},
            {"list all", "numbers", null}, {"hello", AdapterRegistry.BASE, "a"}, {"list the blue", "colors", "b"},
            {"france is", "capitals", null}, {"one two", null, null}};
        List<Row> input = new ArrayList<>();
        for (String[] r : rows) {
            input.add(RowFactory.create(r[0], r[1], r[2]));
        }
        StructType schema = new StructType().add("prompt", DataTypes.StringType).add("adapter", DataTypes.StringType)
                .add("reference", DataTypes.StringType);
        Dataset<Row> prompts = spark.createDataFrame(input, schema).repartition(2);
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(6).build();
        GenerationConfig sampled = GenerationConfig.builder().optMaxNewTokens(6).optTemperature(0.9).optSeed(5).build();
        for (GenerationConfig config : List.of(greedy, sampled)) {
            BatchInference job = BatchInference.builder().setModelPath(model.toString())
                    .optAdapterRoot(adapters.toString()).optMaxNewTokens(6).optTemperature(config.temperature())
                    .optSeed(config.seed()).optBatchSize(3).optMaxLoadedAdapters(3).build();
            List<Row> out = job.run(prompts).collectAsList();
            assertEquals(rows.length, out.size());
            int differFromBase = 0;
            for (Row r : out) {
                String adapter = r.getString(1);
                Path dir = adapter == null || adapter.equals(AdapterRegistry.BASE) ? null : adapters.resolve(adapter);
                String expected = SingleProcess.generate(model, dir, r.getString(0), config);
                assertEquals(expected, r.getString(3), "row " + r.getString(0) + " with " + adapter);
                assertEquals(r.isNullAt(2) ? null : r.getString(2).strip().equals(expected.strip()), r.get(4));
                if (r.isNullAt(2)) {
                    assertTrue(r.isNullAt(5), "no reference, no loss");
                } else if (config == greedy) {
                    double want = SingleProcess.referenceLoss(model, dir, r.getString(0), r.getString(2));
                    assertEquals(want, r.getDouble(5), 1e-4 * Math.max(1, want), "loss of row " + r.getString(0));
                }
                if (dir != null && !expected.equals(SingleProcess.generate(model, null, r.getString(0), config))) {
                    differFromBase++;
                }
            }
            assertTrue(differFromBase > 0, "the trained adapters change at least one generation");
        }
    }

    @Test
    void badInput_isRefusedWithOneClearMessage() {
        Dataset<Row> noTask = records().drop("task");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> job().run(noTask)).getMessage()
                .contains("'task' column"));
        Dataset<Row> badName = spark.createDataFrame(List.of(RowFactory.create("../x", "a", "", "b", "train")), RECORDS);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> job().run(badName)).getMessage()
                .contains("not a safe folder name"));
        assertThrows(IllegalArgumentException.class, () -> ManyAdapters.builder().setModelPath("m")
                .setOutputDir("hdfs://nn/a b").build());
    }
}
