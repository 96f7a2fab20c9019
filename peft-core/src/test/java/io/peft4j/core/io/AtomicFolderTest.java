package io.peft4j.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AtomicFolder}: whole-folder replacement, carried entries, failures leave the old folder, recovery. */
class AtomicFolderTest {
    @TempDir
    Path dir;

    static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Path old() throws IOException {
        Path t = dir.resolve("out");
        AtomicFolder.replace(t, tmp -> {
            Files.writeString(tmp.resolve("a.txt"), "old");
            Files.writeString(tmp.resolve("b.txt"), "old");
        });
        return t;
    }

    @Test
    void replace_existingFolder_newContentOnlyAndNoLeftovers() throws Exception {
        Path t = old();
        Files.writeString(t.resolve("user.txt"), "mine");
        AtomicFolder.replace(t, tmp -> Files.writeString(tmp.resolve("a.txt"), "new"));
        assertEquals(List.of("a.txt"), names(t), "replaced whole: nothing of the old folder is kept by default");
        assertEquals("new", Files.readString(t.resolve("a.txt")));
        assertEquals(List.of("out"), names(dir), "no temp or old folder left beside it");
    }

    @Test
    void replace_keptEntriesAndLockFile_carriedAsHardLinks() throws Exception {
        Path t = old();
        Files.createDirectories(t.resolve("checkpoint-2/adapters"));
        Files.writeString(t.resolve("checkpoint-2/adapters/x.bin"), "ckpt");
        Files.writeString(t.resolve(OutputLock.FILE_NAME), "123");
        Object lockInode = Files.readAttributes(t.resolve(OutputLock.FILE_NAME), BasicFileAttributes.class).fileKey();
        AtomicFolder.replace(t, name -> !name.equals("a.txt"), tmp -> Files.writeString(tmp.resolve("a.txt"), "new"));
        assertEquals(List.of(OutputLock.FILE_NAME, "a.txt", "b.txt", "checkpoint-2"), names(t));
        assertEquals("new", Files.readString(t.resolve("a.txt")), "the writer's file wins over the kept one");
        assertEquals("old", Files.readString(t.resolve("b.txt")));
        assertEquals("ckpt", Files.readString(t.resolve("checkpoint-2/adapters/x.bin")));
        assertEquals(lockInode, Files.readAttributes(t.resolve(OutputLock.FILE_NAME), BasicFileAttributes.class)
                .fileKey(), "the lock file is the same inode, so a held lock survives the swap");
    }

    @Test
    void replace_contentThrows_oldFolderUntouchedAndTempRemoved() throws Exception {
        Path t = old();
        IOException e = assertThrows(IOException.class, () -> AtomicFolder.replace(t, tmp -> {
            Files.writeString(tmp.resolve("a.txt"), "half");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals(List.of("a.txt", "b.txt"), names(t));
        assertEquals("old", Files.readString(t.resolve("a.txt")));
        assertEquals(List.of("out"), names(dir));
    }

    @Test
    void replace_targetIsAFile_refusedAndFileKept() throws Exception {
        Path f = Files.writeString(dir.resolve("file"), "data");
        assertThrows(FileAlreadyExistsException.class, () -> AtomicFolder.replace(f, tmp -> { }));
        assertEquals("data", Files.readString(f));
        assertEquals(List.of("file"), names(dir));
    }

    @Test
    void recover_interruptedBetweenRenames_restoresOldAndRemovesTemp() throws Exception {
        Path t = old();
        Path aside = dir.resolve(".out.peft4j-old");
        Files.move(t, aside);                                  // as a crash right after OLD_ASIDE leaves it
        Files.createDirectories(dir.resolve(".out.peft4j-tmp-00ff"));
        assertEquals(aside, AtomicFolder.resolveForRead(t), "readers see the complete old folder meanwhile");
        assertEquals(List.of(".out.peft4j-old", ".out.peft4j-tmp-00ff"), names(dir), "reading wrote nothing");
        AtomicFolder.recover(t);
        assertEquals(List.of("out"), names(dir));
        assertEquals("old", Files.readString(t.resolve("a.txt")));
    }

    @Test
    void recover_newInPlace_deletesOldCopy() throws Exception {
        Path t = old();
        Files.createDirectories(dir.resolve(".out.peft4j-old"));
        Files.createDirectories(dir.resolve(".other.peft4j-tmp-01"));
        AtomicFolder.recover(t);
        assertEquals(List.of(".other.peft4j-tmp-01", "out"), names(dir), "another target's temp is not touched");
        AtomicFolder.recoverChildren(dir);
        assertEquals(List.of("out"), names(dir));
        assertTrue(AtomicFolder.isLeftover(".x.peft4j-old"));
        assertFalse(AtomicFolder.isLeftover(".x.tmp"));
    }
}
