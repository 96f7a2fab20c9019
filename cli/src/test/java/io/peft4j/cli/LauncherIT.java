package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./peft4j} launcher (over the packaged jar): libtorch's native "AutoNonVariableTypeMode is deprecated"
 * warning, written to fd 2 by native code, does not reach the user's stderr, while stdout, other stderr lines and the
 * exit code pass through unchanged. {@code PEFT4J_RAW_STDERR=1} shows the warning is really printed without the filter.
 * Training commands get tcmalloc preloaded when it is installed.
 */
class LauncherIT {
    private static final String WARNING = "AutoNonVariableTypeMode is deprecated";
    /** The folders the launcher looks in for tcmalloc. */
    private static final List<String> TCMALLOC_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64", "/usr/lib", "/usr/local/lib");

    @TempDir
    Path tmp;

    @Test
    void launcher_dropsOnlyTheNativeWarning_keepsExitCodeAndStreams() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("m"), TinyModelFolder.TINY, 3);
        Path adapter = tmp.resolve("adapter");
        try (NDManager m = Peft4j.newManager(); LlamaModel base = LlamaModel.random(TinyModelFolder.TINY, 3, m);
             PeftModel peft = PeftModel.wrap(base)) {
            peft.addAdapter(PeftModel.DEFAULT, LoraConfig.builder().optR(2).optTargetModules(TargetModules.ALL_LINEAR)
                    .build(), 1L);
            peft.save(adapter);
        }
        Path data = Files.writeString(tmp.resolve("d.txt"), "a b c a b c b a");
        // loading adapter weights (NDArray.set from Java floats) is what makes libtorch print the warning
        String[] eval = {"eval", "--model", model.toString(), "--adapter", adapter.toString(), "--data",
            data.toString(), "--json"};

        Result raw = launch(true, eval);
        assertEquals(0, raw.code, raw.err);
        assertTrue(raw.err.contains(WARNING), "the warning is printed natively: " + raw.err);

        Result filtered = launch(false, eval);
        assertEquals(0, filtered.code, filtered.err);
        assertFalse(filtered.err.contains(WARNING), filtered.err);
        assertTrue(filtered.err.contains("eval: window"), "other stderr lines pass: " + filtered.err);
        assertTrue(filtered.out.strip().endsWith("}") && filtered.out.contains("\"loss\""), filtered.out);

        Result bad = launch(false, "eval", "--model", model.toString(), "--data", tmp.resolve("nope.txt").toString());
        assertEquals(2, bad.code, bad.err);
        assertTrue(bad.err.startsWith("peft4j: "), bad.err);
    }

    /**
     * Training commands run on tcmalloc when it is installed ({@code libtcmalloc_minimal.so.4}), on glibc with
     * {@code PEFT4J_MALLOC=glibc}, and on glibc with a clear line when the library asked for does not exist.
     */
    @Test
    void launcher_preloadsTcmallocForTraining_whenInstalled() throws Exception {
        Path model = TinyModelFolder.write(tmp.resolve("m"), TinyModelFolder.TINY, 3);
        Path data = TinyRun.data(tmp.resolve("d.jsonl"));
        boolean installed = TCMALLOC_DIRS.stream().anyMatch(d -> Files.exists(Path.of(d, "libtcmalloc_minimal.so.4")));

        Result auto = launch(Map.of(), TinyRun.finetune(model, data, tmp.resolve("a1"), 2, 2));
        assertEquals(0, auto.code, auto.err);
        assertEquals(installed ? "tcmalloc" : "glibc", Json.MAPPER.readTree(lastLine(auto.out)).get("allocator")
                .asText(), "libtcmalloc_minimal.so.4 installed: " + installed);

        Result glibc = launch(Map.of("PEFT4J_MALLOC", "glibc"), TinyRun.finetune(model, data, tmp.resolve("a2"), 2, 2));
        assertEquals(0, glibc.code, glibc.err);
        assertEquals("glibc", Json.MAPPER.readTree(lastLine(glibc.out)).get("allocator").asText());

        Path missing = tmp.resolve("no-such-malloc.so");
        Result bad = launch(Map.of("PEFT4J_MALLOC", missing.toString()),
                TinyRun.finetune(model, data, tmp.resolve("a3"), 2, 2));
        assertEquals(0, bad.code, bad.err);
        assertTrue(bad.err.contains("PEFT4J_MALLOC=" + missing + ": no such file; using glibc"), bad.err);
        assertEquals("glibc", Json.MAPPER.readTree(lastLine(bad.out)).get("allocator").asText());
    }

    private static String lastLine(String out) {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    private record Result(int code, String out, String err) {
    }

    private static Result launch(boolean raw, String... args) throws IOException, InterruptedException {
        return launch(Map.of("PEFT4J_RAW_STDERR", raw ? "1" : "0"), List.of(args));
    }

    private static Result launch(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<String> cmd = new ArrayList<>(List.of(root.resolve("peft4j").toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("PEFT4J_MALLOC");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var err = new java.util.concurrent.CompletableFuture<String>();
        Thread t = new Thread(() -> {
            try {
                err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.completeExceptionally(e);
            }
        });
        t.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "launcher finished");
        return new Result(p.exitValue(), out, err.join());
    }
}
