package io.peft4j.core.io;

import io.peft4j.core.PeftException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on an output folder for the whole of a run: {@code FileChannel.tryLock} on
 * {@code <folder>/}{@value #FILE_NAME}, which holds the holder's PID. A second run on the same folder, in this or
 * another process, fails at once naming that PID. The lock file is never deleted (deleting it would let two runs
 * lock two different files); {@link AtomicFolder} carries it over when it replaces the folder, so the lock survives.
 * Close to release; not reentrant.
 *
 * <pre>{@code
 * try (OutputLock lock = OutputLock.acquire(Path.of("out"))) {
 *     AtomicFolder.replace(Path.of("out"), tmp -> Files.writeString(tmp.resolve("a.txt"), "new"));
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class OutputLock implements AutoCloseable {
    /** Name of the lock file inside the locked folder. */
    public static final String FILE_NAME = ".peft4j.lock";
    /** Crash/pause point: the lock is held. */
    public static final String ACQUIRED = "output-lock.acquired";
    private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);

    private final Path folder;
    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(Path folder, FileChannel channel, FileLock lock) {
        this.folder = folder;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code folder} if needed and locks it.
     *
     * @throws PeftException if another run holds the lock (the message names its PID), or the folder or lock file
     *                       cannot be created (not writable, a file in the way)
     */
    public static OutputLock acquire(Path folder) throws PeftException {
        Path dir = folder.toAbsolutePath().normalize();
        Path file = dir.resolve(FILE_NAME);
        FileChannel ch;
        try {
            Files.createDirectories(dir);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new PeftException(dir + ": cannot write into the output folder (" + e.getClass().getSimpleName()
                    + ": " + e.getMessage() + ")", e);
        }
        try {
            FileLock l = tryLock(ch);
            if (l == null) {
                String holder = holder(ch);
                ch.close();
                throw new PeftException(dir + " is in use by another peft4j run (PID " + holder + ", lock file "
                        + file + "); wait for it to finish or choose another output folder");
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(pid), 0);
            ch.force(false);
            LOG.debug("locked {}", dir);
            CrashPoint.reach(ACQUIRED);
            return new OutputLock(dir, ch, l);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new PeftException(file + ": cannot lock the output folder: " + e.getMessage(), e);
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;                            // held by this JVM
        }
    }

    private static String holder(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        ch.read(buf, 0);
        String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
        return pid.isEmpty() ? "unknown" : pid;
    }

    /** The locked folder. */
    public Path folder() {
        return folder;
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            LOG.warn("releasing the lock on {} failed: {}", folder, e.getMessage());
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("closing lock file failed", e);
        }
    }
}
