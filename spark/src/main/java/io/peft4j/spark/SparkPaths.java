package io.peft4j.spark;

import java.net.URI;
import java.nio.file.Path;

/** Output locations the jobs accept: a plain path or a {@code file:} URI, on a file system every executor mounts. */
final class SparkPaths {
    private SparkPaths() {
    }

    /** {@code location} as an absolute local path; other URI schemes ({@code hdfs:}, {@code s3a:}) are refused. */
    static String local(String location, String what) {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException(what + " is required");
        }
        if (location.startsWith("file:")) {
            return Path.of(URI.create(location)).toAbsolutePath().normalize().toString();
        }
        if (location.matches("[A-Za-z][A-Za-z0-9+.-]*://.*")) {
            throw new IllegalArgumentException(what + " " + location + ": only local paths or file: URIs on a file "
                    + "system every executor mounts are supported (not Hadoop/object-store URIs)");
        }
        return Path.of(location).toAbsolutePath().normalize().toString();
    }
}
