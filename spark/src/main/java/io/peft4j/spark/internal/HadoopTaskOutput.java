package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterSummary;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.io.CrashPoint;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A task's adapter folder on a Hadoop file system ({@code hdfs://}, {@code s3a://}, ...), published from the local
 * folder {@code PeftModel.save} wrote on the executor: its files are copied into
 * {@code <output>/.<task>.tmp-<attempt>} (a name no other attempt uses; the weights file last), then that folder is
 * renamed to {@code <output>/<task>} by one {@link FileSystem#rename}. Before the rename, a final folder that another
 * attempt completed meanwhile wins (this attempt's copy is dropped; every attempt trains the same bytes), and an
 * incomplete one (an object store's interrupted rename) is deleted. After a publish, and when a task is found
 * complete, the temp folders that failed attempts of the task left behind are deleted; until then their hidden names
 * keep them out of every listing the jobs read.
 *
 * <p>Atomicity depends on the file system: on HDFS (and the local file system) a folder rename is atomic, so the
 * final name only ever holds a complete adapter. On object stores (S3A, GCS, ABFS without hierarchical namespace)
 * rename copies file by file, so a crash mid-rename can leave a final folder with some files; each file still
 * appears whole or not at all, and the task counts as done only when all of {@link TaskOutput#ADAPTER_FILES} are
 * there, so such a folder is retrained and replaced by the next attempt or re-run. Readers that list the output
 * while a job runs on an object store may see a folder in that state.
 */
public final class HadoopTaskOutput implements TaskOutput {
    /** Crash point: this attempt's temp folder holds the complete adapter; the rename has not happened. */
    public static final String COPIED = "spark-hadoop-output.copied";
    /** Crash point: the final folder is in place; old temp folders are not deleted yet. */
    public static final String PUBLISHED = "spark-hadoop-output.published";
    private static final Logger LOG = LoggerFactory.getLogger(HadoopTaskOutput.class);
    private static final String TMP_INFIX = ".tmp-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String location;
    private final String task;
    private final Configuration conf;
    private final Path target;

    /** The output of {@code task} in {@code outputDir} (a Hadoop URI without a trailing slash). */
    HadoopTaskOutput(String outputDir, String task, Configuration conf) {
        this.location = outputDir + "/" + task;
        this.task = task;
        this.conf = conf;
        this.target = new Path(location);
    }

    @Override
    public String location() {
        return location;
    }

    @Override
    public boolean isComplete() throws IOException {
        return HadoopFolders.isComplete(fs(), target);
    }

    @Override
    public Claim claim() {
        return () -> { };   // no lock on a remote folder: attempts write distinct temp folders, the rename decides
    }

    @Override
    public java.nio.file.Path saveDir(java.nio.file.Path scratch) {
        return scratch.resolve(task);
    }

    @Override
    public void publish(java.nio.file.Path saved) throws IOException {
        FileSystem fs = fs();
        Path tmp = new Path(target.getParent(), "." + task + TMP_INFIX + attemptId());
        try {
            copyFolder(fs, saved, tmp);
            CrashPoint.reach(COPIED);
            if (HadoopFolders.isComplete(fs, target)) {
                LOG.info("task {}: another attempt published {} first; dropping this copy", task, location);
                fs.delete(tmp, true);
            } else {
                if (fs.exists(target)) {
                    LOG.warn("task {}: replacing the incomplete folder {} (an interrupted publish)", task, location);
                    fs.delete(target, true);
                }
                if (!fs.rename(tmp, target) && !HadoopFolders.isComplete(fs, target)) {
                    throw new IOException("could not rename " + tmp + " to " + location);
                }
                Path nested = new Path(target, tmp.getName());   // another attempt's folder appeared first
                if (fs.exists(nested)) {
                    fs.delete(nested, true);
                }
                CrashPoint.reach(PUBLISHED);
            }
        } catch (IOException | RuntimeException e) {
            deleteQuietly(fs, tmp);
            throw e;
        }
        removeStaleTemps();
    }

    @Override
    public Provenance provenance() throws IOException, PeftException {
        removeStaleTemps();
        java.nio.file.Path local = Files.createTempDirectory("peft4j-spark-read-");
        try {
            java.nio.file.Path dir = local.resolve(task);
            Files.createDirectories(dir);
            for (String f : TaskOutput.ADAPTER_FILES) {
                fs().copyToLocalFile(false, new Path(target, f), new Path(dir.resolve(f).toUri()), true);
            }
            return AdapterSummary.read(dir).provenance();
        } finally {
            AtomicFolder.deleteTree(local);
        }
    }

    /** Deletes {@code .<task>.tmp-*} folders beside the target (failed attempts' copies; never the final folder). */
    void removeStaleTemps() throws IOException {
        FileSystem fs = fs();
        Pattern mine = Pattern.compile("\\." + Pattern.quote(task) + Pattern.quote(TMP_INFIX) + "[0-9]+-[0-9a-f]+");
        FileStatus[] entries;
        try {
            entries = fs.listStatus(target.getParent());
        } catch (FileNotFoundException e) {
            return;
        }
        for (FileStatus s : entries) {
            if (mine.matcher(s.getPath().getName()).matches()) {
                LOG.info("task {}: removing {}, left by a failed attempt", task, s.getPath());
                fs.delete(s.getPath(), true);
            }
        }
    }

    /** Copies the files of the local folder {@code from} into the new folder {@code to}, the weights file last. */
    private static void copyFolder(FileSystem fs, java.nio.file.Path from, Path to) throws IOException {
        List<java.nio.file.Path> files = new ArrayList<>();
        try (Stream<java.nio.file.Path> s = Files.list(from)) {
            s.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        String last = TaskOutput.ADAPTER_FILES.get(TaskOutput.ADAPTER_FILES.size() - 1);
        files.sort((a, b) -> Boolean.compare(a.getFileName().toString().equals(last),
                b.getFileName().toString().equals(last)));
        if (!fs.mkdirs(to)) {
            throw new IOException("could not create " + to);
        }
        for (java.nio.file.Path f : files) {
            fs.copyFromLocalFile(false, true, new Path(f.toUri()), new Path(to, f.getFileName().toString()));
        }
    }

    private FileSystem fs() throws IOException {
        return HadoopFolders.fileSystem(location, conf);
    }

    /** {@code <Spark task attempt id>-<random>}: unique across attempts, speculative copies and re-runs. */
    private static String attemptId() {
        TaskContext ctx = TaskContext.get();
        return (ctx == null ? 0 : ctx.taskAttemptId()) + "-" + HexFormat.of().toHexDigits(RANDOM.nextLong());
    }

    private static void deleteQuietly(FileSystem fs, Path p) {
        try {
            fs.delete(p, true);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", p, e.getMessage());
        }
    }
}
