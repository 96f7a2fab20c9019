package io.peft4j.cli;

import io.peft4j.core.io.AtomicFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What {@code finetune --overwrite} removes from its output before training: the previous run's resumable
 * {@code checkpoint-N} folders (a stale later step would be resumed or outlive pruning) and its {@code metrics.jsonl}
 * (the new run would append to it). The adapter files stay until the new adapter replaces them; other files stay.
 */
final class PreviousRun {
    private PreviousRun() {
    }

    static void delete(Path output) throws IOException {
        if (!Files.isDirectory(output)) {
            return;
        }
        List<Path> stale;
        try (Stream<Path> s = Files.list(output)) {
            stale = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("metrics.jsonl") || n.matches("checkpoint-\\d+") && Files.isDirectory(p);
            }).toList();
        }
        for (Path p : stale) {
            AtomicFolder.deleteTree(p);
        }
    }
}
