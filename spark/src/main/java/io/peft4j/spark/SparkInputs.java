package io.peft4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Reads the mains' inputs: Parquet ({@code .parquet} or a folder of Parquet files) or JSON Lines (anything else), and
 * tells a folder of task folders ({@link ManyAdapters#readTaskFolders}) from a plain data folder.
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
        Path p = Path.of(path);
        return !path.contains("://") && !taskFolders(p).isEmpty() ? ManyAdapters.readTaskFolders(spark, path)
                : read(spark, path);
    }

    /**
     * The task folders of {@code root} in name order: its visible entries when every one is a folder and none is a
     * Spark partition folder ({@code key=value}); empty otherwise (a file, or a plain or partitioned data folder).
     */
    static List<Path> taskFolders(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> entries = visible(root);
        boolean allTaskDirs = !entries.isEmpty() && entries.stream().allMatch(e -> Files.isDirectory(e)
                && !e.getFileName().toString().contains("="));
        return allTaskDirs ? entries : List.of();
    }

    /** The data files of one task folder in name order (hidden files and {@code _SUCCESS}-style markers skipped). */
    static List<Path> dataFiles(Path taskDir) {
        return visible(taskDir).stream().filter(Files::isRegularFile).toList();
    }

    private static List<Path> visible(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(e -> !e.getFileName().toString().startsWith(".")
                    && !e.getFileName().toString().startsWith("_")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
