package io.peft4j.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Replaces a folder as a whole, so that a crash (even {@code kill -9}) at any point leaves either the complete old
 * folder or the complete new one. The one helper every folder writer uses (adapter saves, trainer checkpoints,
 * merged and quantized model folders).
 *
 * <p>Protocol for target {@code T} in parent {@code P}: the new content is written into {@code P/.T.peft4j-tmp-<hex>}
 * (files fsynced); entries of the old {@code T} that the writer keeps (always the {@link OutputLock} file) are carried
 * over as hard links; then {@code T} is renamed to {@code P/.T.peft4j-old}, the temp folder is renamed to {@code T}
 * and the old folder is deleted. {@link #recover} (run by every {@link #replace} for its target, and by commands
 * before they touch an output) deletes temp folders and, if {@code T} is missing, renames {@code .T.peft4j-old} back;
 * a reader that must not write uses {@link #resolveForRead}. The named {@link CrashPoint}s are the constants below.
 * One writer per target at a time (see {@link OutputLock}); stateless otherwise.
 *
 * <pre>{@code
 * AtomicFolder.replace(Path.of("out/adapter"), name -> !name.equals("adapter_model.safetensors"), tmp -> {
 *     Files.writeString(tmp.resolve("adapter_config.json"), json);
 * });
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AtomicFolder {
    /** Crash point: the empty temp folder exists. */
    public static final String TEMP_CREATED = "atomic-folder.temp-created";
    /** Crash point: the temp folder holds the complete new content, fsynced. */
    public static final String TEMP_COMPLETE = "atomic-folder.temp-complete";
    /** Crash point: the old folder was renamed aside; the target name is free. */
    public static final String OLD_ASIDE = "atomic-folder.old-aside";
    /** Crash point: the new folder is in place; the old one is not deleted yet. */
    public static final String NEW_IN_PLACE = "atomic-folder.new-in-place";
    /** Crash point: the swap is complete and the old folder deleted. */
    public static final String DONE = "atomic-folder.done";
    /** Every crash point of one {@link #replace}, in order. */
    public static final List<String> POINTS = List.of(TEMP_CREATED, TEMP_COMPLETE, OLD_ASIDE, NEW_IN_PLACE, DONE);

    private static final Logger LOG = LoggerFactory.getLogger(AtomicFolder.class);
    private static final String TMP_INFIX = ".peft4j-tmp-";
    private static final String OLD_SUFFIX = ".peft4j-old";
    private static final Pattern TMP = Pattern.compile("\\.(.+)\\.peft4j-tmp-[0-9a-f]+");
    private static final Pattern OLD = Pattern.compile("\\.(.+)\\.peft4j-old");
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFolder() {
    }

    /** Writes the new content of a folder into the (empty) temp folder it is given. */
    @FunctionalInterface
    public interface Content {
        void write(Path tempFolder) throws IOException;
    }

    /** As {@link #replace(Path, Predicate, Content)} keeping nothing of the old folder but its lock file. */
    public static void replace(Path target, Content content) throws IOException {
        replace(target, name -> false, content);
    }

    /**
     * Replaces {@code target} (created if missing) with what {@code content} writes. Top-level entries of the old
     * folder for which {@code keep} is true, and the lock file, are carried into the new folder (hard links, so no
     * data is copied) unless {@code content} wrote the same name. If {@code content} or any step throws, the temp
     * folder is deleted and the old folder is left (or put back) in place.
     *
     * @throws IOException if {@code target} is a file, or writing or renaming fails
     */
    public static void replace(Path target, Predicate<String> keep, Content content) throws IOException {
        Path t = target.toAbsolutePath().normalize();
        Path parent = t.getParent();
        Files.createDirectories(parent);
        recover(t);
        if (Files.exists(t, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(t.toString(), null, "is a file, not a folder");
        }
        Path tmp = parent.resolve("." + t.getFileName() + TMP_INFIX + HexFormat.of().toHexDigits(RANDOM.nextLong()));
        Path old = oldOf(t);
        Files.createDirectory(tmp);
        try {
            readableByAll(tmp);
            CrashPoint.reach(TEMP_CREATED);
            content.write(tmp);
            if (Files.isDirectory(t)) {
                carry(t, tmp, name -> OutputLock.FILE_NAME.equals(name) || keep.test(name));
            }
            syncTree(tmp);
            CrashPoint.reach(TEMP_COMPLETE);
            boolean hadOld = Files.exists(t);
            if (hadOld) {
                Files.move(t, old, StandardCopyOption.ATOMIC_MOVE);
                CrashPoint.reach(OLD_ASIDE);
            }
            Files.move(tmp, t, StandardCopyOption.ATOMIC_MOVE);
            syncFolder(parent);
            CrashPoint.reach(NEW_IN_PLACE);
            deleteTree(old);
            CrashPoint.reach(DONE);
        } catch (IOException | RuntimeException | Error e) {
            deleteTreeQuietly(tmp);
            if (!Files.exists(t) && Files.exists(old)) {
                Files.move(old, t, StandardCopyOption.ATOMIC_MOVE);
            }
            throw e;
        }
        LOG.debug("replaced {}", t);
    }

    /**
     * Finishes or undoes an interrupted swap of {@code target}: deletes its {@code .T.peft4j-tmp-*} folders; renames
     * {@code .T.peft4j-old} back to {@code T} when {@code T} is missing, else deletes it. Only the writer of
     * {@code target} may call this (a temp folder may belong to a live save otherwise).
     */
    public static void recover(Path target) throws IOException {
        Path t = target.toAbsolutePath().normalize();
        String name = t.getFileName().toString();
        recoverEntries(t.getParent(), n -> n.equals(name));
    }

    /**
     * {@link #recover} for every child of {@code folder} that an interrupted swap left temp or old folders for.
     * Only the owner of {@code folder} (e.g. the holder of its {@link OutputLock}) may call this.
     */
    public static void recoverChildren(Path folder) throws IOException {
        recoverEntries(folder.toAbsolutePath().normalize(), n -> true);
    }

    /**
     * Renames {@code .T.peft4j-old} back to {@code T} if {@code T} is missing (a swap interrupted between its two
     * renames) and deletes nothing: safe before the caller holds a lock on {@code target}.
     */
    public static void restoreIfInterrupted(Path target) throws IOException {
        Path t = target.toAbsolutePath().normalize();
        Path old = oldOf(t);
        if (!Files.exists(t, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(old, LinkOption.NOFOLLOW_LINKS)) {
            LOG.warn("restoring {} from an interrupted save (the new version was not complete)", t);
            Files.move(old, t, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void recoverEntries(Path parent, Predicate<String> targets) throws IOException {
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(parent)) {
            entries = s.toList();
        }
        for (Path p : entries) {
            Matcher m = TMP.matcher(p.getFileName().toString());
            if (m.matches() && targets.test(m.group(1))) {
                LOG.info("removing the temp folder of an interrupted save: {}", p);
                deleteTree(p);
            }
        }
        for (Path p : entries) {
            Matcher m = OLD.matcher(p.getFileName().toString());
            if (m.matches() && targets.test(m.group(1))) {
                Path target = parent.resolve(m.group(1));
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(p);
                } else {
                    restoreIfInterrupted(target);
                }
            }
        }
    }

    /** {@code target}, or the complete old folder an interrupted swap left beside it (nothing is written). */
    public static Path resolveForRead(Path target) {
        if (Files.exists(target)) {
            return target;
        }
        Path old = oldOf(target.toAbsolutePath().normalize());
        return Files.isDirectory(old) ? old : target;
    }

    /** Whether {@code name} is a temp or old folder of an interrupted swap (never user data). */
    public static boolean isLeftover(String name) {
        return TMP.matcher(name).matches() || OLD.matcher(name).matches();
    }

    /** Deletes a file or folder tree; missing entries (e.g. deleted concurrently) are fine. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = new ArrayList<>(walk.toList());
        } catch (NoSuchFileException e) {
            return;
        }
        all.sort(Comparator.reverseOrder());
        for (Path p : all) {
            Files.deleteIfExists(p);
        }
    }

    private static void deleteTreeQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (IOException e) {
            LOG.warn("could not delete temp folder {}: {}", root, e.getMessage());
        }
    }

    private static Path oldOf(Path target) {
        return target.resolveSibling("." + target.getFileName() + OLD_SUFFIX);
    }

    /** Hard-links (or copies, where links are not supported) kept top-level entries of {@code from} into {@code to}. */
    private static void carry(Path from, Path to, Predicate<String> keep) throws IOException {
        List<Path> kept;
        try (Stream<Path> s = Files.list(from)) {
            kept = s.filter(p -> keep.test(p.getFileName().toString()) && !isLeftover(p.getFileName().toString()))
                    .filter(p -> !Files.exists(to.resolve(p.getFileName().toString()), LinkOption.NOFOLLOW_LINKS))
                    .toList();
        }
        for (Path p : kept) {
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path src : (Iterable<Path>) walk::iterator) {
                    Path dst = to.resolve(from.relativize(src).toString());
                    if (Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectory(dst);
                    } else {
                        link(src, dst);
                    }
                }
            }
        }
    }

    private static void link(Path src, Path dst) throws IOException {
        if (Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createLink(dst, src);
                return;
            } catch (UnsupportedOperationException | IOException e) {
                LOG.debug("cannot hard-link {} ({}); copying", src, e.toString());
            }
        }
        Files.copy(src, dst, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
    }

    private static void readableByAll(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException | IOException e) {
            LOG.debug("cannot set permissions of {}", dir, e);
        }
    }

    /** fsyncs every regular file and folder under {@code root}, so the renamed folder survives a power cut. */
    private static void syncTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                        ch.force(true);
                    }
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    syncFolder(p);
                }
            }
        }
    }

    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot fsync folder {}", dir, e);
        }
    }
}
