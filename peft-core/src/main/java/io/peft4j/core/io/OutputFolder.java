package io.peft4j.core.io;

import io.peft4j.core.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What an output folder holds before a command writes into it, so a command can refuse to destroy data: whether it
 * is missing, empty, a previous output of the same kind (recognised by the {@value #MARKER} file peft4j writes into
 * every model folder), other content, or a file; whether it is (or contains) one of the command's inputs; whether it
 * can be written at all. Stateless.
 *
 * <pre>{@code
 * if (OutputFolder.classify(out, "merge") == OutputFolder.State.OTHER_CONTENT && !overwrite) {
 *     throw new IllegalArgumentException(out + " holds other files");
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class OutputFolder {
    /** Marker file written into merge and quantize outputs: {@code {"written_by": KIND}}. */
    public static final String MARKER = ".peft4j-output.json";

    /** The state of an output path. */
    public enum State {
        /** Nothing at the path. */
        ABSENT,
        /** A folder holding nothing but peft4j's lock file and leftovers of interrupted saves. */
        EMPTY,
        /** A folder peft4j wrote as an output of the same kind (its marker says so). */
        SAME_KIND,
        /** A folder with anything else in it. */
        OTHER_CONTENT,
        /** A regular file (or other non-folder). */
        NOT_A_FOLDER
    }

    private OutputFolder() {
    }

    /** Classifies {@code out} for an output of {@code kind} (e.g. {@code "merge"}). */
    public static State classify(Path out, String kind) throws IOException {
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            return State.ABSENT;
        }
        if (!Files.isDirectory(out)) {
            return State.NOT_A_FOLDER;
        }
        if (contents(out).isEmpty()) {
            return State.EMPTY;
        }
        return kind != null && kind.equals(writtenBy(out).orElse(null)) ? State.SAME_KIND : State.OTHER_CONTENT;
    }

    /** Top-level entries of {@code folder} other than the lock file and leftovers of interrupted saves. */
    public static List<Path> contents(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return !n.equals(OutputLock.FILE_NAME) && !AtomicFolder.isLeftover(n);
            }).sorted().toList();
        }
    }

    /** The kind recorded in {@code folder}'s marker, if it has a readable one. */
    public static Optional<String> writtenBy(Path folder) {
        Path marker = folder.resolve(MARKER);
        if (!Files.isRegularFile(marker)) {
            return Optional.empty();
        }
        try {
            String kind = Json.MAPPER.readTree(marker.toFile()).path("written_by").asText("");
            return kind.isEmpty() ? Optional.empty() : Optional.of(kind);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes the marker of an output of {@code kind} into {@code folder} (a temp folder about to be swapped in). */
    public static void writeMarker(Path folder, String kind) throws IOException {
        Files.writeString(folder.resolve(MARKER), Json.MAPPER.createObjectNode().put("written_by", kind)
                .put("format_version", 1).toString());
    }

    /**
     * The first of {@code inputs} that {@code out} is, or lies inside of {@code out} (replacing {@code out} would
     * delete it), if any. Symbolic links are resolved where the paths exist.
     */
    public static Optional<Path> endangeredInput(Path out, List<Path> inputs) {
        Path o = real(out);
        for (Path in : inputs) {
            if (in != null && real(in).startsWith(o)) {
                return Optional.of(in);
            }
        }
        return Optional.empty();
    }

    /**
     * The reason {@code out} cannot be created or written (its nearest existing ancestor is a file or not writable),
     * or empty if it can. Checked before a model loads, so a long run does not fail at its very end.
     */
    public static Optional<String> unwritableReason(Path out) {
        Path p = out.toAbsolutePath().normalize();
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return Optional.of("no existing parent folder");
        }
        if (!Files.isDirectory(existing)) {
            return Optional.of(existing + " is a file, not a folder");
        }
        if (!Files.isWritable(existing)) {
            return Optional.of(existing + " is not writable");
        }
        Path parent = p.getParent();
        if (existing.equals(p) && parent != null && !Files.isWritable(parent)) {
            return Optional.of(parent + " is not writable (the folder is replaced by a rename in it)");
        }
        return Optional.empty();
    }

    private static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }
}
