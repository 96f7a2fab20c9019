package io.peft4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code spark-submit} entry point of {@link ManyAdapters}: reads the records (Parquet or JSON Lines with a
 * {@code task} column, or a folder of task folders, {@link ManyAdapters#readTaskFolders}), trains one adapter per
 * task into {@code --output} and prints the summary (optionally also written as JSON with {@code --summary}). Bad
 * options exit with code 2 and one line on stderr.
 *
 * <pre>{@code
 * spark-submit --class io.peft4j.spark.ManyAdaptersMain --master spark://host:7077 --jars "$JARS" spark.jar \
 *     --model /models/smollm2.gguf --records /shared/records.jsonl --output /shared/adapters --max-steps 100
 * }</pre>
 *
 * @since 0.1.0
 */
@Command(name = "ManyAdaptersMain", mixinStandardHelpOptions = true,
        description = "Train one LoRA adapter per task (the 'task' column) on the Spark executors.")
public final class ManyAdaptersMain implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Base model (.gguf or HF folder), same path on every executor.")
    String model;
    @Option(names = "--records", required = true, description = "Training records: Parquet or JSON Lines with a 'task' "
            + "column (and optional 'split' = eval), or a folder with one folder of such files per task; a path or a "
            + "Hadoop URI.")
    String records;
    @Option(names = "--output", required = true, description = "Receives <task>/ adapters: a folder every executor "
            + "mounts, or a Hadoop URI (hdfs://, s3a://, ...).")
    String output;
    @Option(names = "--summary", description = "Also write the summary table here as JSON.")
    String summary;
    @Option(names = "--quantize", defaultValue = "none", description = "none, nf4, fp4 or int8 (default ${DEFAULT-VALUE}).")
    String quantize;
    @Option(names = "--partitions", defaultValue = "0", description = "Training partitions (0: default parallelism).")
    int partitions;
    @Option(names = "--r", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE}).")
    int r;
    @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha (default ${DEFAULT-VALUE}).")
    double alpha;
    @Option(names = "--dropout", defaultValue = "0.05", description = "LoRA dropout (default ${DEFAULT-VALUE}).")
    double dropout;
    @Option(names = "--target-modules", defaultValue = "q_proj,v_proj", description = "Names, all-linear or re:REGEX.")
    String targets;
    @Option(names = "--max-steps", defaultValue = "0", description = "Optimizer steps per task (overrides --epochs).")
    int maxSteps;
    @Option(names = "--epochs", defaultValue = "1", description = "Passes over each task's data when --max-steps is 0.")
    int epochs;
    @Option(names = "--lr", defaultValue = "2e-4", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, linear or cosine.")
    String schedule;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "Linear warmup steps.")
    int warmup;
    @Option(names = "--batch-size", defaultValue = "4", description = "Examples per micro-batch.")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step.")
    int gradAccum;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of adapter init, data order and dropout.")
    long seed;
    @Option(names = "--max-seq-len", defaultValue = "512", description = "Longest example in tokens.")
    int maxSeqLen;
    @Option(names = "--template", description = "Template name or 'chat' (default: chat if the model has one, else alpaca).")
    String template;

    /** Runs the job; exit code 0, 1 on failure, 2 on bad options. */
    public static void main(String[] args) {
        System.exit(run(new ManyAdaptersMain(), args));
    }

    static int run(Callable<Integer> command, String[] args) {
        return new CommandLine(command).setExecutionExceptionHandler((e, cmd, parsed) -> {
            System.err.println("error: " + e.getMessage());
            return e instanceof IllegalArgumentException ? 2 : 1;
        }).execute(args);
    }

    @Override
    public Integer call() {
        TrainingOptions options = TrainingOptions.builder().optR(r).optAlpha(alpha).optDropout(dropout)
                .optTargetModules(targets).optMaxSteps(maxSteps).optEpochs(epochs).optLearningRate(lr)
                .optSchedule(schedule).optWarmupSteps(warmup).optBatchSize(batchSize).optGradAccum(gradAccum)
                .optSeed(seed).optMaxSeqLen(maxSeqLen).optTemplate(template).build();
        ManyAdapters job = ManyAdapters.builder().setModelPath(model).setOutputDir(output).optQuantization(quantize)
                .optPartitions(partitions).optTraining(options).build();
        SparkSession spark = SparkSession.builder().appName("peft4j-many-adapters").getOrCreate();
        Dataset<Row> result = job.run(SparkInputs.readRecords(spark, records));
        result.show(Integer.MAX_VALUE, false);
        if (summary != null) {
            result.coalesce(1).write().mode("overwrite").json(summary);
        }
        return 0;
    }
}
