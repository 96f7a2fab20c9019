package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterSummary;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.io.OutputLock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where one task's adapter goes, and how it gets there atomically. A local folder ({@link Local}: a plain path or
 * {@code file:} URI) is written in place by {@code PeftModel.save} (peft4j's {@code AtomicFolder}: temp folder beside
 * the target, one rename) under an {@link OutputLock}; a Hadoop file system ({@link HadoopTaskOutput}) receives the
 * adapter saved into a local scratch folder, copied beside the target under a temp name and renamed into place. Both
 * use one rule for "done": the folder holds every one of {@link #ADAPTER_FILES}.
 *
 * <pre>{@code
 * TaskOutput out = TaskOutput.of(job, "colors");
 * if (!out.isComplete()) {
 *     try (TaskOutput.Claim claim = out.claim()) {
 *         Path dir = out.saveDir(scratch);
 *         peft.save(dir, provenance);
 *         out.publish(dir);
 *     }
 * }
 * }</pre>
 */
public sealed interface TaskOutput permits TaskOutput.Local, HadoopTaskOutput {
    /**
     * The files of a complete PEFT adapter folder; it counts as complete (and its task as done) when every one exists.
     * Locally both appear together (one folder rename); on an object store each file appears whole or not at all.
     */
    List<String> ADAPTER_FILES = List.of("adapter_config.json", "adapter_model.safetensors");

    /** The output of {@code task} in {@code job}'s output folder. */
    static TaskOutput of(TrainJob job, String task) {
        if (HadoopFolders.isHadoop(job.outputDir())) {
            return new HadoopTaskOutput(job.outputDir(), task, job.hadoopConf().value());
        }
        return new Local(Path.of(job.outputDir()).resolve(task).toAbsolutePath().normalize());
    }

    /** The adapter folder's final location (a path or URI), as the summary shows it. */
    String location();

    /** Whether the final folder holds a complete adapter. */
    boolean isComplete() throws IOException;

    /** Keeps other writers of this output out while it is held (where the file system can). */
    Claim claim() throws PeftException;

    /** The folder {@code PeftModel.save} writes to; {@code scratch} is an empty local folder of this attempt. */
    Path saveDir(Path scratch);

    /** Makes the adapter saved in {@code saved} (the {@link #saveDir}) the final folder. */
    void publish(Path saved) throws IOException;

    /** The provenance of the complete adapter in the final folder ({@code null} when it has none). */
    Provenance provenance() throws IOException, PeftException;

    /** A held claim on an output; {@link #close} releases it. */
    interface Claim extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * A local adapter folder (or one on a shared mount), saved in place under its {@link OutputLock}.
     *
     * @param target the adapter folder, absolute
     */
    record Local(Path target) implements TaskOutput {
        /** Whether {@code dir} holds every one of {@link #ADAPTER_FILES}. */
        public static boolean isComplete(Path dir) {
            return ADAPTER_FILES.stream().allMatch(f -> Files.isRegularFile(dir.resolve(f)));
        }

        @Override
        public String location() {
            return target.toString();
        }

        @Override
        public boolean isComplete() {
            return isComplete(target);
        }

        @Override
        public Claim claim() throws PeftException {
            return OutputLock.acquire(target)::close;
        }

        @Override
        public Path saveDir(Path scratch) {
            return target;
        }

        @Override
        public void publish(Path saved) {
            // PeftModel.save already swapped the folder in
        }

        @Override
        public Provenance provenance() throws PeftException {
            return AdapterSummary.read(target).provenance();
        }
    }
}
