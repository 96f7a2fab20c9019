package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peak RSS ({@code VmHWM}, the {@code peak_rss_mb} key of {@code generate --json}) of {@code generate --quantize nf4}
 * against the fp32 model's size (its parameters × 4 bytes, 513 MiB) and the fp32 run, each in its own JVM started
 * with the JVM heap options of the {@code ./peft4j} launcher (read from the script, so test and product agree).
 * Issue 4: "loading the 135M model with --quantize nf4 keeps peak RSS below the fp32 model's size".
 *
 * <p>Measured (2-core VM under load 8-12, SmolLM2-135M GGUF, 4 new tokens, MiB, 3 runs each):
 * <pre>
 *                         nf4           fp32 run
 * before, G1 default      617-914       1175-1307
 * before, serial -Xmn24m  542-555       895-922
 * after,  G1 default      499-589       864-903
 * after,  serial -Xmn24m  439-444       787-799    (the launcher's setting until stop 28; this test: 444 / 788)
 * stop 28, -Xmn8m -Xms48m 400-412       778-780    (the launcher's setting for one-shot commands since; quiet, 2 runs)
 * </pre>
 * "After" = the embedding decoded straight into its native buffer (it used to pass through a 113 MB float[] as
 * well), GGUF tensors read with positional reads instead of mappings (mapped pages counted as resident), and one
 * reused fp32 read buffer for the quantized projections (no per-tensor garbage). JVM + libtorch alone is ≈ 160;
 * the fp32 embedding (kept unquantized, as transformers does) 113; the NF4 codes 55.
 */
class QuantizedMemoryIT {
    private static final Logger LOG = LoggerFactory.getLogger(QuantizedMemoryIT.class);
    private static final Pattern GC_OPTS = Pattern.compile("PEFT4J_GC_OPTS:-([^}]*)}");

    @Test
    void generate_nf4_peakRssBelowFp32ModelSize() throws Exception {
        Path gguf = TestResources.testModel();
        List<String> heap = launcherHeapOptions();
        long nf4 = peakMb(gguf, "nf4", heap);
        long fp32 = peakMb(gguf, "none", heap);
        long modelMb = 134_515_008L * 4 >> 20;
        LOG.warn("generate peak RSS (VmHWM, {}): --quantize nf4 {} MB, fp32 {} MB; fp32 model size {} MB",
                heap, nf4, fp32, modelMb);
        assertTrue(nf4 < modelMb, "nf4 peak " + nf4 + " MB, fp32 model size " + modelMb + " MB");
        assertTrue(nf4 < fp32, "nf4 peak " + nf4 + " MB, fp32 peak " + fp32 + " MB");
    }

    /** The default of {@code PEFT4J_GC_OPTS} in the launcher script. */
    private static List<String> launcherHeapOptions() throws Exception {
        String script = Files.readString(TestResources.repoRoot().resolve("peft4j"));
        Matcher m = GC_OPTS.matcher(script);
        assertTrue(m.find(), "no PEFT4J_GC_OPTS default in ./peft4j");
        return Arrays.asList(m.group(1).trim().split("\\s+"));
    }

    private static long peakMb(Path gguf, String quantize, List<String> heap) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m"));
        cmd.addAll(heap);
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), Peft4jCommand.class.getName(), "generate",
                "--model", gguf.toString(), "--quantize", quantize, "--prompt", "The capital of France is",
                "--max-new-tokens", "4", "--json"));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "generate --quantize " + quantize + " failed: " + out);
        String[] lines = out.strip().split("\n");
        JsonNode j = Json.MAPPER.readTree(lines[lines.length - 1]);
        return j.get("peak_rss_mb").asLong();
    }
}
