package io.peft4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real model (SmolLM2-135M-Instruct GGUF, {@code PEFT4J_TEST_MODEL}) in {@code local[2]}: three tasks of three
 * Alpaca records each (from {@code ../shared}) trained by {@link ManyAdapters} for two steps give adapters whose
 * files are byte-identical to the single-process {@code finetune} path on each task's JSONL file (the data hash in
 * the provenance included), and {@link BatchInference} over prompts with mixed adapters gives, row by row, the text
 * single-process {@code generate --adapter} gives. Skipped with a message when the model or the data is absent.
 */
class ManyAdaptersSmolLm2IT {
    static final int STEPS = 2;
    static final double LR = 2e-4;
    static final int BATCH = 2;
    static final int MAX_SEQ = 96;
    static final int PER_TASK = 3;
    static final List<String> TASKS = List.of("alpaca-a", "alpaca-b", "alpaca-c");

    @TempDir
    static Path tmp;
    static Path model;
    static SparkSession spark;
    static final Map<String, List<JsonNode>> RECORDS = new LinkedHashMap<>();

    @BeforeAll
    static void setUp() throws Exception {
        model = TestResources.testModel();
        JsonNode all = Json.MAPPER.readTree(TestResources.shared("datasets/alpaca-subset/alpaca_5000.json").toFile());
        for (int t = 0; t < TASKS.size(); t++) {
            List<JsonNode> recs = new ArrayList<>();
            for (int i = 0; i < PER_TASK; i++) {
                recs.add(all.get(t * PER_TASK + i));
            }
            RECORDS.put(TASKS.get(t), recs);
        }
        spark = SparkSession.builder().master("local[2]").appName("peft4j-spark-it")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void threeTasks_bitIdenticalToSingleProcess_andBatchInferenceMatchesGenerate() throws Exception {
        StructType schema = new StructType().add("task", DataTypes.StringType).add("instruction", DataTypes.StringType)
                .add("input", DataTypes.StringType).add("output", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        RECORDS.forEach((task, recs) -> recs.forEach(r -> rows.add(RowFactory.create(task, r.get("instruction")
                .asText(), r.get("input").asText(), r.get("output").asText()))));
        Path adapters = tmp.resolve("adapters");
        List<Row> summary = ManyAdapters.builder().setModelPath(model.toString()).setOutputDir(adapters.toString())
                .optPartitions(2).optTraining(TrainingOptions.builder().optMaxSteps(STEPS).optBatchSize(BATCH)
                        .optMaxSeqLen(MAX_SEQ).build()).build()
                .run(spark.createDataFrame(rows, schema)).collectAsList();
        assertEquals(TASKS.size(), summary.size());
        for (Row s : summary) {
            String task = s.getString(0);
            assertEquals("trained", s.getString(1));
            assertEquals(STEPS, s.getLong(3));
            Path data = Files.write(tmp.resolve(task + ".jsonl"), RECORDS.get(task).stream().map(r -> Json.MAPPER
                    .createObjectNode().put("instruction", r.get("instruction").asText())
                    .put("input", r.get("input").asText()).put("output", r.get("output").asText()).toString())
                    .toList());
            Path ref = tmp.resolve("reference").resolve(task);
            SingleProcess.finetune(model, data, ref, STEPS, LR, BATCH, MAX_SEQ);
            for (String f : List.of("adapter_model.safetensors", "adapter_config.json")) {
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(adapters.resolve(task)
                        .resolve(f)), task + "/" + f + " differs from the single-process adapter");
            }
        }

        List<Row> prompts = new ArrayList<>();
        for (int i = 0; i < TASKS.size(); i++) {
            JsonNode r = RECORDS.get(TASKS.get(i)).get(0);
            prompts.add(RowFactory.create(r.get("instruction").asText(), TASKS.get(i), r.get("output").asText()));
            prompts.add(RowFactory.create(RECORDS.get(TASKS.get((i + 1) % TASKS.size())).get(1).get("instruction")
                    .asText(), TASKS.get(i), null));
        }
        StructType promptSchema = new StructType().add("prompt", DataTypes.StringType)
                .add("adapter", DataTypes.StringType).add("reference", DataTypes.StringType);
        GenerationConfig config = GenerationConfig.builder().optMaxNewTokens(8).build();
        List<Row> out = BatchInference.builder().setModelPath(model.toString()).optAdapterRoot(adapters.toString())
                .optTemplate("chat").optMaxNewTokens(8).optBatchSize(4).optMaxLoadedAdapters(4).build()
                .run(spark.createDataFrame(prompts, promptSchema).repartition(2)).collectAsList();
        assertEquals(prompts.size(), out.size());
        try (Peft4jModel base = Peft4jModel.builder().setPath(model).build()) {
            var template = io.peft4j.datasets.ChatTemplate.resolve("chat", base.chatTemplate(), base.tokenizer());
            for (Row r : out) {
                base.loadAdapter(adapters.resolve(r.getString(1)), "default");
                String text = template.render(io.peft4j.datasets.Conversation.of(
                        io.peft4j.datasets.Message.user(r.getString(0))), true);
                String expected = base.generate(List.of(text), config, TokenListener.NONE).texts().get(0);
                base.peft().deleteAdapter("default");
                assertEquals(expected, r.getString(3), "generation of '" + r.getString(0) + "' with " + r.getString(1));
            }
        }
    }
}
