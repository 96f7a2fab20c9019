package io.peft4j.spark;

import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code spark-submit} entry point of {@link BatchInference}: reads prompts (Parquet or JSON Lines with
 * {@code prompt}, optional {@code adapter} and {@code reference} columns) and writes them with {@code generation}
 * (and {@code exact_match}, {@code loss}) as JSON Lines to {@code --output}; prints the exact-match rate and the mean
 * reference loss when there is a reference. Bad options exit with code 2 and one line on stderr.
 *
 * <pre>{@code
 * spark-submit --class io.peft4j.spark.BatchInferenceMain --master spark://host:7077 --jars "$JARS" spark.jar \
 *     --model /models/smollm2.gguf --prompts /shared/prompts.jsonl --adapter-root /shared/adapters --output /shared/out
 * }</pre>
 *
 * @since 0.1.0
 */
@Command(name = "BatchInferenceMain", mixinStandardHelpOptions = true,
        description = "Generate for a table of prompts, each row with its own adapter, on the Spark executors.")
public final class BatchInferenceMain implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Base model (.gguf or HF folder), same path on every executor.")
    String model;
    @Option(names = "--prompts", required = true, description = "Parquet or JSON Lines: prompt, optional adapter and reference.")
    String prompts;
    @Option(names = "--output", required = true, description = "Output folder (JSON Lines, Spark's part files).")
    String output;
    @Option(names = "--adapter-root", description = "Folder that relative adapter values resolve against: a path, or "
            + "a Hadoop URI (adapters are copied to each executor once).")
    String adapterRoot;
    @Option(names = "--quantize", defaultValue = "none", description = "none, nf4, fp4 or int8 (default ${DEFAULT-VALUE}).")
    String quantize;
    @Option(names = "--template", description = "Render each prompt as a user turn: 'chat' or a built-in template name.")
    String template;
    @Option(names = "--prompt-column", defaultValue = "prompt", description = "The prompt column (default ${DEFAULT-VALUE}).")
    String promptColumn;
    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default), else sampling temperature.")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens (0 = all).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (1 = all).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed, the same for every row.")
    long seed;
    @Option(names = "--batch-size", defaultValue = "8", description = "Greedy rows per mixed-adapter batch.")
    int batchSize;
    @Option(names = "--max-loaded-adapters", defaultValue = "16", description = "Adapters kept loaded per executor (LRU).")
    int maxLoadedAdapters;
    @Option(names = "--adapter-memory-mb", defaultValue = "0", description = "MB of adapter weights kept loaded per "
            + "executor before the least recently used is unloaded (0: no byte budget).")
    long adapterMemoryMb;

    /** Runs the job; exit code 0, 1 on failure, 2 on bad options. */
    public static void main(String[] args) {
        System.exit(ManyAdaptersMain.run(new BatchInferenceMain(), args));
    }

    @Override
    public Integer call() {
        BatchInference job = BatchInference.builder().setModelPath(model).optQuantization(quantize)
                .optAdapterRoot(adapterRoot).optTemplate(template).optPromptColumn(promptColumn)
                .optMaxNewTokens(maxNewTokens).optTemperature(temperature).optTopK(topK).optTopP(topP).optSeed(seed)
                .optBatchSize(batchSize).optMaxLoadedAdapters(maxLoadedAdapters).optAdapterMemoryMb(adapterMemoryMb)
                .build();
        SparkSession spark = SparkSession.builder().appName("peft4j-batch-inference").getOrCreate();
        var result = job.run(SparkInputs.read(spark, prompts)).cache();
        result.write().mode("overwrite").json(output);
        if (java.util.Arrays.asList(result.columns()).contains(BatchInference.EXACT_MATCH)) {
            long scored = result.filter(result.col(BatchInference.EXACT_MATCH).isNotNull()).count();
            long hits = result.filter(result.col(BatchInference.EXACT_MATCH).equalTo(true)).count();
            System.out.printf("exact match: %d / %d%n", hits, scored);
            Double meanLoss = result.agg(org.apache.spark.sql.functions.avg(BatchInference.LOSS)).first()
                    .getAs(0);
            if (meanLoss != null) {
                System.out.printf("mean reference loss: %.4f nats/token%n", meanLoss);
            }
        }
        System.out.println("wrote " + result.count() + " rows to " + output);
        return 0;
    }
}
