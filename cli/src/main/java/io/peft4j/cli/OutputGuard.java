package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.io.AtomicFolder;
import io.peft4j.core.io.OutputFolder;
import io.peft4j.core.io.OutputLock;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The checks every writing command runs on {@code --output} before it loads a model, worded with the command's
 * options: never a file, never a folder holding one of the inputs, never someone else's files without
 * {@code --overwrite}, writable; then the run's {@link OutputLock} and the clean-up of interrupted saves.
 */
final class OutputGuard {
    private static final int LISTED = 4;

    private OutputGuard() {
    }

    /**
     * For a model folder replaced whole ({@code merge}, {@code quantize}): refuses other content unless
     * {@code overwrite}, and always refuses a folder that is or holds one of {@code inputs} (option name → path).
     */
    static OutputLock modelFolder(Path output, String command, boolean overwrite, Map<String, Path> inputs)
            throws PeftException, IOException {
        AtomicFolder.restoreIfInterrupted(output);
        OutputFolder.State state = common(output, command, inputs);
        if (state == OutputFolder.State.OTHER_CONTENT && !overwrite) {
            throw new IllegalArgumentException("--output " + output + " is not empty and is not a previous peft4j "
                    + command + " output (holds " + listed(output) + "); pass --overwrite to replace it, or choose "
                    + "another folder");
        }
        return lock(output);
    }

    /**
     * For {@code finetune}: a non-empty folder needs {@code --resume} (continue) or {@code --overwrite}. Inputs inside
     * it are safe: the adapter save carries every other entry of the folder over, and {@code --overwrite} deletes
     * only the previous run's checkpoints and metrics ({@link PreviousRun}).
     */
    static OutputLock trainingFolder(Path output, boolean resume, boolean overwrite) throws PeftException, IOException {
        if (resume && overwrite) {
            throw new IllegalArgumentException("--resume and --overwrite exclude each other: --resume continues the "
                    + "run in --output, --overwrite starts a new one");
        }
        AtomicFolder.restoreIfInterrupted(output);
        OutputFolder.State state = common(output, null, Map.of());
        if (state == OutputFolder.State.OTHER_CONTENT && !resume && !overwrite) {
            throw new IllegalArgumentException("--output " + output + " is not empty (holds " + listed(output)
                    + "); pass --resume to continue the run saved there, or --overwrite to start a new one (its "
                    + "checkpoints and metrics.jsonl are deleted, the adapter is replaced at the end)");
        }
        return lock(output);
    }

    private static OutputFolder.State common(Path output, String kind, Map<String, Path> inputs)
            throws IOException {
        OutputFolder.State state = OutputFolder.classify(output, kind);
        if (state == OutputFolder.State.NOT_A_FOLDER) {
            throw new IllegalArgumentException("--output " + output + " is a file, not a folder");
        }
        Map<Path, String> byPath = new LinkedHashMap<>();
        inputs.forEach((option, path) -> {
            if (path != null) {
                byPath.put(path, option);
            }
        });
        OutputFolder.endangeredInput(output, List.copyOf(byPath.keySet())).ifPresent(in -> {
            throw new IllegalArgumentException("--output " + output + (in.toAbsolutePath().normalize().equals(
                    output.toAbsolutePath().normalize()) ? " is " : " contains ") + byPath.get(in) + " " + in
                    + ", which writing the output would delete; choose another folder");
        });
        OutputFolder.unwritableReason(output).ifPresent(why -> {
            throw new IllegalArgumentException("--output " + output + " cannot be written: " + why);
        });
        return state;
    }

    private static OutputLock lock(Path output) throws PeftException, IOException {
        OutputLock lock = OutputLock.acquire(output);
        try {
            AtomicFolder.recover(output);           // temp/old folders of an interrupted swap of the output itself
            AtomicFolder.recoverChildren(output);   // ... and of checkpoints or adapters inside it
            return lock;
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static String listed(Path output) throws IOException {
        List<Path> all = OutputFolder.contents(output);
        String names = all.stream().limit(LISTED).map(p -> p.getFileName().toString())
                .collect(Collectors.joining(", "));
        return names + (all.size() > LISTED ? ", ... " + all.size() + " entries" : "");
    }
}
