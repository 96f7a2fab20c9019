package io.peft4j.core.adapter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProvenanceTest {
    static final String ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    @TempDir
    Path tmp;

    @Test
    void sha256_matchesTheStandardVector_andStreamsLargeFiles() throws Exception {
        Path f = Files.writeString(tmp.resolve("abc.txt"), "abc", StandardCharsets.US_ASCII);
        assertEquals(ABC_SHA256, Provenance.sha256(f));
        Path big = Files.write(tmp.resolve("big.bin"), new byte[3 * 1024 * 1024 + 7]);
        assertEquals(64, Provenance.sha256(big).length());
    }

    @Test
    void metadata_roundTrips_withPeft4jPrefixedKeys() {
        Provenance p = Provenance.of("lora", -7L, 120, ABC_SHA256, "alpaca");
        Map<String, String> meta = p.toMetadata();
        assertEquals(List.of("peft4j.version", "peft4j.method", "peft4j.seed", "peft4j.steps", "peft4j.data_sha256",
                "peft4j.template"), List.copyOf(meta.keySet()));
        assertEquals("-7", meta.get("peft4j.seed"));
        assertEquals(p, Provenance.fromMetadata(meta));
        Provenance bare = Provenance.of("lora", 1L, 0, null, null);
        assertEquals(4, bare.toMetadata().size(), "absent hash and template are not written");
        assertEquals(bare, Provenance.fromMetadata(bare.toMetadata()));
        assertEquals("lora", p.toMap().get("method"));
        assertEquals(120L, p.toMap().get("steps"));
    }

    @Test
    void currentVersion_isTheBuildVersion() {
        String v = Provenance.currentVersion();
        assertTrue(v.matches("\\d+\\.\\d+\\.\\d+.*"), v);
        assertEquals(v, Provenance.of("lora", 1L, 1, null, null).peft4jVersion());
    }

    @Test
    void fromMetadata_withoutEntries_isNull_andBadEntriesNameTheKey() {
        assertNull(Provenance.fromMetadata(Map.of("format", "pt", "peft4j.base_fingerprint", "x")));
        Map<String, String> bad = new LinkedHashMap<>(Provenance.of("lora", 1L, 2, null, null).toMetadata());
        bad.put("peft4j.steps", "many");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Provenance.fromMetadata(bad));
        assertTrue(e.getMessage().contains("peft4j.steps = many"), e.getMessage());
        bad.put("peft4j.steps", "2");
        bad.put("peft4j.data_sha256", "ABC");
        e = assertThrows(IllegalArgumentException.class, () -> Provenance.fromMetadata(bad));
        assertTrue(e.getMessage().contains("peft4j.data_sha256 = ABC"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Provenance.of("", 1L, 1, null, null));
        assertThrows(IllegalArgumentException.class, () -> Provenance.of("lora", 1L, -1, null, null));
    }
}
