package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.model.ContextWindowException;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.ChatTemplateException;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetFormatException;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.spark.TrainingOptions;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * Trains one task's adapter on this executor, exactly as {@code peft4j finetune --data FILE --output DIR} would
 * with the same options: the task's records are written (in input order) to a JSONL file, read by the same
 * {@link DatasetReader}, encoded with the same template and trained by the same {@link Trainer} from the same seed,
 * and the adapter is saved with the same {@link Provenance} (the file's SHA-256 included). The save is atomic
 * ({@link TaskOutput}: locally {@link PeftModel#save} writes a temp folder beside the target and renames it, under an
 * {@link io.peft4j.core.io.OutputLock} that keeps a retried or speculative attempt from writing it at the same time;
 * on a Hadoop file system the adapter saved locally is copied beside the target under a temp name and renamed into
 * place), and a target that already holds a complete adapter is skipped, which makes a re-run idempotent.
 */
public final class TaskTrainer {
    /** Summary status of a task trained in this run. */
    public static final String TRAINED = "trained";
    /** Summary status of a task whose adapter was already complete. */
    public static final String SKIPPED = "skipped";
    /** The purpose key of the base models that training uses ({@link BaseModels#get}). */
    static final String PURPOSE = "train";
    private static final Logger LOG = LoggerFactory.getLogger(TaskTrainer.class);

    private TaskTrainer() {
    }

    /** Whether the local folder {@code dir} holds a complete PEFT adapter ({@link TaskOutput.Local#isComplete}). */
    public static boolean isComplete(Path dir) {
        return TaskOutput.Local.isComplete(dir);
    }

    /** Trains (or skips) {@code task} from its {@code records} and says what happened. */
    public static TaskResult train(TrainJob job, String task, List<TaskRecord> records) throws IOException,
            PeftException, DatasetFormatException, ChatTemplateException {
        long start = System.nanoTime();
        TaskOutput output = TaskOutput.of(job, task);
        List<TaskRecord> sorted = records.stream().sorted(Comparator.comparingLong(TaskRecord::seq)).toList();
        List<String> train = sorted.stream().filter(r -> !r.eval()).map(TaskRecord::json).toList();
        List<String> eval = sorted.stream().filter(TaskRecord::eval).map(TaskRecord::json).toList();
        if (output.isComplete()) {
            return skipped(task, train.size(), output, start);
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("task '" + task + "' has no training records (only split=eval)");
        }
        BaseModels.Held held = BaseModels.get(job.modelPath(), job.quantization(), PURPOSE);
        held.lock().lock();
        try (TaskOutput.Claim claim = output.claim()) {
            if (output.isComplete()) {
                return skipped(task, train.size(), output, start);
            }
            Path tmp = Files.createTempDirectory("peft4j-spark-task-");
            try {
                Path trainFile = Files.write(tmp.resolve(task + ".jsonl"), train);
                Path evalFile = eval.isEmpty() ? null : Files.write(tmp.resolve(task + ".eval.jsonl"), eval);
                Path saveDir = output.saveDir(Files.createDirectory(tmp.resolve("out")));
                TrainingResult r = trainAndSave(held.model(), job, trainFile, evalFile, saveDir);
                output.publish(saveDir);
                double seconds = (System.nanoTime() - start) / 1e9;
                LOG.info("task {}: {} records, {} steps, train loss {} in {} s -> {}", task, train.size(), r.steps(),
                        r.trainLoss(), String.format("%.1f", seconds), output.location());
                return new TaskResult(task, TRAINED, train.size(), (long) r.steps(), r.trainLoss(),
                        Double.isNaN(r.evalLoss()) ? null : r.evalLoss(), seconds, output.location(), executor());
            } finally {
                AtomicFolder.deleteTree(tmp);
            }
        } finally {
            held.lock().unlock();
        }
    }

    /**
     * The body of {@code peft4j finetune} for LoRA without packing or resume: same reader, template choice,
     * encoder, adapter seed, trainer settings and provenance. Leaves the model without adapters.
     */
    private static TrainingResult trainAndSave(Peft4jModel model, TrainJob job, Path trainFile, Path evalFile,
                                               Path target) throws IOException, PeftException,
            DatasetFormatException, ChatTemplateException {
        TrainingOptions o = job.options();
        ContextWindowException.check(model.config(), o.maxSeqLen(), "maxSeqLen");
        String template = o.template() != null ? o.template() : model.chatTemplate().isPresent() ? "chat" : "alpaca";
        List<Example> train = examples(model, trainFile, template, o.maxSeqLen());
        List<Example> eval = evalFile == null ? List.of() : examples(model, evalFile, template, o.maxSeqLen());
        String dataSha256 = Provenance.sha256(trainFile);
        PeftModel peft = model.peft();
        peft.addAdapter(PeftModel.DEFAULT, o.loraConfig(job.modelPath()), o.seed());
        try {
            TrainingResult result;
            try (Trainer trainer = new Trainer(peft, o.trainerConfig(model.tokenizer().padTokenId()))) {
                result = trainer.train(train, eval);
            }
            peft.save(target, Provenance.of("lora", o.seed(), result.steps(), dataSha256, template));
            return result;
        } finally {
            peft.deleteAdapter(PeftModel.DEFAULT);
        }
    }

    private static List<Example> examples(Peft4jModel model, Path file, String template, int maxSeqLen)
            throws IOException, DatasetFormatException, ChatTemplateException {
        Dataset d = DatasetReader.builder().setPath(file).build().readAll();
        Tokenizer tok = model.tokenizer();
        List<Example> out = ExampleEncoder.builder().setTokenizer(tok)
                .setTemplate(ChatTemplate.resolve(template, model.chatTemplate(), tok)).optMaxSeqLen(maxSeqLen).build()
                .encodeAll(d.records()).forTrainer();
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file.getFileName() + ": no usable examples (" + d.badRecords()
                    + " bad records)");
        }
        return out;
    }

    private static TaskResult skipped(String task, long records, TaskOutput output, long start)
            throws IOException, PeftException {
        Provenance p = output.provenance();
        LOG.info("task {}: adapter already complete in {}, skipped", task, output.location());
        return new TaskResult(task, SKIPPED, records, p == null ? null : p.steps(), null, null,
                (System.nanoTime() - start) / 1e9, output.location(), executor());
    }

    /** The Spark executor id running this code ({@code driver} in local mode), or {@code unknown} outside Spark. */
    static String executor() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "unknown" : env.executorId();
    }
}
