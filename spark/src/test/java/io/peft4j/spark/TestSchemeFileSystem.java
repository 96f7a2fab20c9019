package io.peft4j.spark;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local disk under its own Hadoop scheme, {@value #SCHEME}{@code :///abs/path}, registered as
 * {@code fs.peft4jtest.impl}: {@code java.nio} cannot open such a URI, so a job that works on it went through
 * Hadoop's {@code FileSystem} API. Counts files created, opened and renamed, and fails a rename whose target's name
 * is {@link #failRenameTo} (a failure between the copy and the rename that publishes it).
 */
public final class TestSchemeFileSystem extends RawLocalFileSystem {
    /** The URI scheme. */
    public static final String SCHEME = "peft4jtest";
    /** Files created for writing through this scheme. */
    static final AtomicInteger CREATES = new AtomicInteger();
    /** Files opened for reading through this scheme. */
    static final AtomicInteger OPENS = new AtomicInteger();
    /** Successful-or-not renames through this scheme (injected failures not counted). */
    static final AtomicInteger RENAMES = new AtomicInteger();
    /** A rename to a path with this last name throws; {@code null}: none does. */
    static volatile String failRenameTo;

    /** {@code local} (an absolute local path) under this scheme. */
    static String uri(java.nio.file.Path local) {
        return SCHEME + "://" + local.toAbsolutePath().normalize();
    }

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        if (dst.getName().equals(failRenameTo)) {
            throw new IOException("injected failure: rename " + src + " -> " + dst);
        }
        RENAMES.incrementAndGet();
        return super.rename(src, dst);
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress) throws IOException {
        CREATES.incrementAndGet();
        return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
                                     Progressable progress) throws IOException {
        CREATES.incrementAndGet();
        return super.create(f, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        OPENS.incrementAndGet();
        return super.open(f, bufferSize);
    }
}
