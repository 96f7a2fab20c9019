package io.peft4j.core.io;

import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.checkpoint.TensorData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Child-JVM entry of {@link AtomicFolderCrashTest}: replaces folder {@code args[0]} with version {@code args[1]}. */
final class AtomicFolderCrashMain {
    private AtomicFolderCrashMain() {
    }

    public static void main(String[] args) throws Exception {
        write(Path.of(args[0]), Integer.parseInt(args[1]));
    }

    /** Version {@code v}: a.txt and b.txt say v, w.safetensors holds [v, v]; user.txt (if any) is carried. */
    static void write(Path target, int v) throws Exception {
        AtomicFolder.replace(target, "user.txt"::equals, tmp -> {
            Files.writeString(tmp.resolve("a.txt"), Integer.toString(v));
            SafetensorsWriter.write(tmp.resolve("w.safetensors"), Map.of("w", TensorData.f32(new float[] {v, v}, 2)),
                    Map.of());
            Files.writeString(tmp.resolve("b.txt"), Integer.toString(v));
        });
    }
}
