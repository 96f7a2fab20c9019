package io.peft4j.spark;

import io.peft4j.spark.internal.HadoopFolders;

import java.net.URI;
import java.nio.file.Path;

/**
 * Locations the jobs accept: a plain path or a {@code file:} URI (a local folder, or a file system every executor
 * mounts), or the URI of any other Hadoop file system ({@code hdfs://nn/x}, {@code s3a://bucket/x}, ...), which the
 * jobs reach through Hadoop's {@code FileSystem} API with the session's Hadoop configuration.
 */
final class SparkPaths {
    private SparkPaths() {
    }

    /**
     * {@code location} normalised: an absolute local path for a plain path or a {@code file:} URI; the URI itself
     * (without a trailing slash) for another scheme.
     *
     * @throws IllegalArgumentException when it is missing or not a valid URI
     */
    static String location(String location, String what) {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException(what + " is required");
        }
        try {
            if (location.startsWith("file:")) {
                return Path.of(URI.create(location)).toAbsolutePath().normalize().toString();
            }
            if (HadoopFolders.isHadoop(location)) {
                URI uri = URI.create(location).normalize();
                String s = uri.toString();
                return s.endsWith("/") && uri.getPath().length() > 1 ? s.substring(0, s.length() - 1) : s;
            }
            return Path.of(location).toAbsolutePath().normalize().toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " " + location + " is not a valid path or URI: "
                    + e.getMessage(), e);
        }
    }
}
