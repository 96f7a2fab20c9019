package io.peft4j.core.testing;

import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the interop ITs share: running a {@code scripts/interop} reference script in the pinned venv
 * ({@link TestResources#referencePython()}) with the test model in {@code PEFT4J_TEST_MODEL}, reading the raw
 * float32 files those scripts write, and the real model wrapped for adapters.
 *
 * <pre>{@code
 * String json = ReferenceScripts.run("peft_reference.py", "logits", adapter.toString(), out.toString());
 * float[] theirs = ReferenceScripts.readF32(out);
 * }</pre>
 */
public final class ReferenceScripts {
    private ReferenceScripts() {
    }

    /**
     * Runs {@code scripts/interop/<script> args...}; fails on a non-zero exit (with its stderr); returns the last
     * line of its stdout.
     */
    public static String run(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(TestResources.referencePython().toString());
        cmd.add(TestResources.repoRoot().resolve("scripts/interop").resolve(script).toString());
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(script, ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        pb.environment().put("PEFT4J_TEST_MODEL", TestResources.testModel().toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), script + " timed out");
        assertEquals(0, p.exitValue(), script + " failed: " + Files.readString(err));
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** A file of little-endian float32 values. */
    public static float[] readF32(Path file) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(f);
        return f;
    }

    /** The body of {@link #withRealModel}. */
    public interface WithModel {
        void run(LlamaModel model, PeftModel peft, NDArray ids, Checkpoint ckpt) throws Exception;
    }

    /** Loads the real test model, wraps it for adapters and runs {@code body} with {@code ids} as a [1, n] array. */
    public static void withRealModel(long[] ids, WithModel body) throws Exception {
        try (NDManager manager = Peft4j.newManager(); Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager);
             PeftModel peft = PeftModel.wrap(model)) {
            body.run(model, peft, manager.create(ids, new Shape(1, ids.length)), ckpt);
        }
    }
}
