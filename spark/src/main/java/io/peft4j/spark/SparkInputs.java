package io.peft4j.spark;

import io.peft4j.spark.internal.HadoopFolders;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/**
 * Reads the mains' inputs: Parquet ({@code .parquet} or a folder of Parquet files) or JSON Lines (anything else), and
 * tells a folder of task folders ({@link ManyAdapters#readTaskFolders}) from a plain data folder. Folders are listed
 * through Hadoop's {@code FileSystem} API with the session's Hadoop configuration, so a local path, a {@code file:}
 * URI and a Hadoop URI ({@code hdfs://}, {@code s3a://}, ...) all work.
 */
final class SparkInputs {
    private SparkInputs() {
    }

    static Dataset<Row> read(SparkSession spark, String path) {
        String p = path.toLowerCase(Locale.ROOT);
        return p.endsWith(".parquet") || p.endsWith(".parquet/") ? spark.read().parquet(path) : spark.read().json(path);
    }

    /** Training records: a folder of task folders ({@link ManyAdapters#readTaskFolders}), or one table. */
    static Dataset<Row> readRecords(SparkSession spark, String path) {
        return !taskFolders(spark, path).isEmpty() ? ManyAdapters.readTaskFolders(spark, path) : read(spark, path);
    }

    /** {@code location} (a local path, {@code file:} URI or Hadoop URI) as a fully qualified Hadoop path. */
    static Path hadoopPath(String location, String what) {
        String l = SparkPaths.location(location, what);
        return HadoopFolders.isHadoop(l) ? new Path(l) : new Path(java.nio.file.Path.of(l).toUri());
    }

    /**
     * The task folders of {@code location} in name order: its visible entries when every one is a folder and none
     * is a Spark partition folder ({@code key=value}); empty otherwise (a file, or a plain or partitioned data
     * folder, or nothing there).
     */
    static List<FileStatus> taskFolders(SparkSession spark, String location) {
        Path root = hadoopPath(location, "records");
        try {
            List<FileStatus> entries = HadoopFolders.visible(fileSystem(spark, root), root);
            boolean allTaskDirs = !entries.isEmpty() && entries.stream().allMatch(e -> e.isDirectory()
                    && !e.getPath().getName().contains("="));
            return allTaskDirs ? entries : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    /** The data files of one task folder in name order (hidden files and {@code _SUCCESS}-style markers skipped). */
    static List<Path> dataFiles(SparkSession spark, Path taskDir) {
        try {
            return HadoopFolders.visible(fileSystem(spark, taskDir), taskDir).stream().filter(FileStatus::isFile)
                    .map(FileStatus::getPath).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + taskDir + ": " + e.getMessage(), e);
        }
    }

    private static FileSystem fileSystem(SparkSession spark, Path p) throws IOException {
        return p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    }
}
