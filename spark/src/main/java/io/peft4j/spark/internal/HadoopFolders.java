package io.peft4j.spark.internal;

import io.peft4j.core.io.AtomicFolder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The jobs' side of Hadoop's {@link FileSystem} API, for locations given as the URI of a Hadoop file system other
 * than {@code file:} ({@code hdfs://nn/x}, {@code s3a://bucket/x}, ...): which locations those are, the
 * completeness check of an adapter folder there ({@link TaskOutput#ADAPTER_FILES}, the rule local folders use), the
 * listing of a folder's visible entries, and the executor-local copies
 * that inference loads adapters from (copied once per JVM, kept until it exits). Plain paths and {@code file:} URIs
 * never come here: they stay on {@code java.nio} and peft4j's own atomic writer.
 *
 * <pre>{@code
 * FileSystem fs = HadoopFolders.fileSystem("hdfs://nn/adapters/colors", conf);
 * boolean done = HadoopFolders.isComplete(fs, new Path("hdfs://nn/adapters/colors"));
 * java.nio.file.Path local = HadoopFolders.localCopy("hdfs://nn/adapters/colors", conf);
 * }</pre>
 */
public final class HadoopFolders {
    private static final Logger LOG = LoggerFactory.getLogger(HadoopFolders.class);
    private static final Pattern HADOOP_URI = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*):/.*");
    private static final Map<String, java.nio.file.Path> COPIES = new ConcurrentHashMap<>();
    private static final AtomicInteger COPY_COUNT = new AtomicInteger();
    private static volatile java.nio.file.Path cacheRoot;

    private HadoopFolders() {
    }

    /** Whether {@code location} is a URI of a Hadoop file system other than {@code file:} (e.g. {@code hdfs://}). */
    public static boolean isHadoop(String location) {
        var m = HADOOP_URI.matcher(location);
        return m.matches() && !m.group(1).equalsIgnoreCase("file");
    }

    /** The file system of {@code uri} ({@link FileSystem#get}: cached per scheme, authority and user). */
    public static FileSystem fileSystem(String uri, Configuration conf) throws IOException {
        return FileSystem.get(URI.create(uri), conf);
    }

    /** Whether {@code dir} holds every one of {@link TaskOutput#ADAPTER_FILES} as a file (the local rule). */
    public static boolean isComplete(FileSystem fs, Path dir) throws IOException {
        for (String f : TaskOutput.ADAPTER_FILES) {
            try {
                if (!fs.getFileStatus(new Path(dir, f)).isFile()) {
                    return false;
                }
            } catch (FileNotFoundException e) {
                return false;
            }
        }
        return true;
    }

    /**
     * The visible entries of {@code dir} in name order (names starting with {@code .} or {@code _}, such as temp
     * folders and Spark's {@code _SUCCESS}, left out); empty when {@code dir} does not exist or is a file.
     */
    public static List<FileStatus> visible(FileSystem fs, Path dir) throws IOException {
        FileStatus[] all;
        try {
            if (!fs.getFileStatus(dir).isDirectory()) {
                return List.of();
            }
            all = fs.listStatus(dir);
        } catch (FileNotFoundException e) {
            return List.of();
        }
        return Arrays.stream(all).filter(s -> !s.getPath().getName().startsWith(".")
                        && !s.getPath().getName().startsWith("_"))
                .sorted(Comparator.comparing(s -> s.getPath().getName())).toList();
    }

    /**
     * A local copy of the folder at {@code uri}, made on first use in this JVM (into a temp name, then renamed, so a
     * failed copy is never used) and reused after; the copies are deleted when the JVM exits.
     *
     * @throws IOException when the folder does not exist or cannot be copied
     */
    public static java.nio.file.Path localCopy(String uri, Configuration conf) throws IOException {
        try {
            return COPIES.computeIfAbsent(uri, u -> {
                try {
                    return copy(u, conf);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** How many folders this JVM has copied from Hadoop file systems (each at most once). */
    public static int copies() {
        return COPY_COUNT.get();
    }

    private static java.nio.file.Path copy(String uri, Configuration conf) throws IOException {
        long start = System.nanoTime();
        FileSystem fs = fileSystem(uri, conf);
        Path src = new Path(uri);
        if (!fs.getFileStatus(src).isDirectory()) {
            throw new IOException(uri + " is not a folder");
        }
        java.nio.file.Path root = cacheRoot();
        int n = COPY_COUNT.incrementAndGet();
        java.nio.file.Path dst = root.resolve(n + "-" + src.getName());
        java.nio.file.Path tmp = root.resolve("." + n + "-" + src.getName() + ".tmp");
        try {
            fs.copyToLocalFile(false, src, new Path(tmp.toUri()), true);
            Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            AtomicFolder.deleteTree(tmp);
        }
        LOG.info("copied {} to {} in {} ms", uri, dst, (System.nanoTime() - start) / 1_000_000);
        return dst;
    }

    private static java.nio.file.Path cacheRoot() throws IOException {
        java.nio.file.Path r = cacheRoot;
        if (r == null) {
            synchronized (HadoopFolders.class) {
                r = cacheRoot;
                if (r == null) {
                    r = Files.createTempDirectory("peft4j-spark-adapters-");
                    java.nio.file.Path created = r;
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            AtomicFolder.deleteTree(created);
                        } catch (IOException e) {
                            LOG.debug("deleting the adapter copies in {}", created, e);
                        }
                    }, "peft4j-spark-adapter-copies"));
                    cacheRoot = r;
                }
            }
        }
        return r;
    }
}
