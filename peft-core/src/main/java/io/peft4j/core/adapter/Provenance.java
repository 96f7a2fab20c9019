package io.peft4j.core.adapter;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * What made an adapter: the peft4j version, the method, the seed, the optimizer steps, the SHA-256 of the training
 * data file and the chat template. Saved with the adapter as {@code peft4j.}-prefixed entries of the safetensors
 * {@code __metadata__} (next to {@code peft4j.base_fingerprint}), read back by {@link AdapterSummary} and shown by
 * {@code peft4j inspect --adapter}. Immutable.
 *
 * <pre>{@code
 * Provenance p = Provenance.of("lora", 42L, 100, Provenance.sha256(data), "alpaca");
 * peft.save(dir, p);
 * Provenance back = AdapterSummary.read(dir).provenance();   // equals p
 * }</pre>
 *
 * @param peft4jVersion the peft4j version that trained it
 * @param method        the fine-tuning method, e.g. {@code lora}
 * @param seed          the run's seed (adapter init, data order, dropout)
 * @param steps         optimizer steps taken
 * @param dataSha256    lower-case hex SHA-256 of the training data file, or {@code null} when unknown
 * @param template      the chat template name used to render the examples, or {@code null}
 *
 * @since 0.1.0
 */
public record Provenance(String peft4jVersion, String method, long seed, long steps, String dataSha256,
                         String template) {
    static final String VERSION = "peft4j.version";
    static final String METHOD = "peft4j.method";
    static final String SEED = "peft4j.seed";
    static final String STEPS = "peft4j.steps";
    static final String DATA_SHA256 = "peft4j.data_sha256";
    static final String TEMPLATE = "peft4j.template";
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    public Provenance {
        require(peft4jVersion != null && !peft4jVersion.isBlank(), VERSION, peft4jVersion);
        require(method != null && !method.isBlank(), METHOD, method);
        require(steps >= 0, STEPS, steps);
        require(dataSha256 == null || HEX64.matcher(dataSha256).matches(), DATA_SHA256, dataSha256);
    }

    /** A provenance stamped with this build's {@link #currentVersion()}. */
    public static Provenance of(String method, long seed, long steps, String dataSha256, String template) {
        return new Provenance(currentVersion(), method, seed, steps, dataSha256, template);
    }

    /** This build's version ({@code project.version} of the Maven build), or {@code unknown} without it. */
    public static String currentVersion() {
        return VersionHolder.VERSION;
    }

    /** Lower-case hex SHA-256 of {@code file}'s bytes, streamed. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The {@code __metadata__} entries: {@code peft4j.version}, {@code peft4j.method}, ...; absent fields omitted. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(VERSION, peft4jVersion);
        m.put(METHOD, method);
        m.put(SEED, Long.toString(seed));
        m.put(STEPS, Long.toString(steps));
        if (dataSha256 != null) {
            m.put(DATA_SHA256, dataSha256);
        }
        if (template != null) {
            m.put(TEMPLATE, template);
        }
        return m;
    }

    /** The fields under JSON names ({@code peft4j_version}, {@code method}, ...) as {@code inspect} shows them. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("peft4j_version", peft4jVersion);
        m.put("method", method);
        m.put("seed", seed);
        m.put("steps", steps);
        m.put("data_sha256", dataSha256);
        m.put("template", template);
        return m;
    }

    /**
     * Reads the entries {@link #toMetadata()} writes; {@code null} when {@code metadata} has none (an adapter from
     * Python PEFT or an older peft4j). A present but malformed entry fails naming the key.
     */
    public static Provenance fromMetadata(Map<String, String> metadata) {
        if (!metadata.containsKey(METHOD)) {
            return null;
        }
        return new Provenance(metadata.get(VERSION), metadata.get(METHOD), number(metadata, SEED),
                number(metadata, STEPS), metadata.get(DATA_SHA256), metadata.get(TEMPLATE));
    }

    private static long number(Map<String, String> metadata, String key) {
        String v = metadata.get(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("adapter provenance: " + key + " = " + v + " is not an integer");
        }
    }

    private static void require(boolean ok, String key, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("adapter provenance: invalid " + key + " = " + value);
        }
    }

    /** Reads the version resource once, on first use. */
    private static final class VersionHolder {
        static final String VERSION = load();

        private static String load() {
            try (InputStream in = Provenance.class.getResourceAsStream("peft4j-version.properties")) {
                if (in == null) {
                    return "unknown";
                }
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "").strip();
                return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read peft4j-version.properties", e);
            }
        }
    }
}
