package io.peft4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j data}: the JSON contract keys, counts on a tiny file, exit 2 with one line for a bad record. */
class DataCommandTest {
    @TempDir
    Path dir;

    private String[] run(String... args) {
        CliRun r = CliRun.of(args);
        return new String[] {Integer.toString(r.code()), r.out(), r.err()};
    }

    @Test
    void data_json_reportsContractKeys() throws Exception {
        Path tok = TestResources.shared("tokenizers/llama2-32k");
        Path data = dir.resolve("d.jsonl");
        Files.writeString(data, "{\"instruction\":\"Say hi\",\"output\":\"Hi\"}\n{\"instruction\":\"x\"}\n"
                + "{\"instruction\":\"" + "long ".repeat(100) + "\",\"output\":\"ok\"}\n");
        String[] r = run("data", "--data", data.toString(), "--tokenizer", tok.toString(), "--template", "alpaca",
                "--max-seq-len", "64", "--json");
        assertEquals("0", r[0], r[2]);
        String[] lines = r[1].strip().split("\n");
        JsonNode j = Json.MAPPER.readTree(lines[lines.length - 1]);
        for (String key : new String[] {"records", "bad_records", "tokens_p50", "tokens_p95", "trained_token_share",
            "truncated"}) {
            assertTrue(j.has(key), key + " in " + j);
        }
        assertEquals(2, j.get("records").asInt());
        assertEquals(1, j.get("bad_records").asInt());
        assertEquals(1, j.get("truncated").asInt());
        assertTrue(j.get("tokens_p95").asInt() > 64);
        assertTrue(j.get("first_example").asText().endsWith("### Response:\n[TRAIN]Hi</s>[/TRAIN]"),
                j.get("first_example").asText());
    }

    @Test
    void data_badRecordStrict_exits2WithOneLine() throws Exception {
        Path tok = TestResources.shared("tokenizers/llama2-32k");
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":[1]}\n");
        String[] r = run("data", "--data", data.toString(), "--tokenizer", tok.toString(), "--strict");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("peft4j: " + data + ":2 (record 1): field 'output': must be a string, was array"),
                r[2]);
    }

    @Test
    void data_skippedRecords_namedWithLineAndReason_inStderrAndJson() throws Exception {
        Path tok = TestResources.shared("tokenizers/llama2-32k");
        Path data = dir.resolve("mixed.jsonl");
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes("{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":[1]}\n{\"instruction\":\"x"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        b.write(0xFF);
        b.writeBytes("\",\"output\":\"y\"}\nnot json\n{\"instruction\":\"c\",\"output\":\"d\"}\n"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.write(data, b.toByteArray());
        CliRun r = CliRun.of("data", "--data", data.toString(), "--tokenizer", tok.toString(), "--template", "alpaca",
                "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("(3 bad)"), r.err());
        assertTrue(r.err().contains("bad line 2: field 'output': must be a string, was array"), r.err());
        assertTrue(r.err().contains("bad line 3: invalid UTF-8 at byte offset 83"), r.err());
        assertTrue(r.err().contains("bad line 4: invalid JSON"), r.err());
        JsonNode j = r.json();
        assertEquals(2, j.get("records").asInt());
        assertEquals(3, j.get("bad_records").asInt());
        JsonNode bad = j.get("bad_lines");
        assertEquals(3, bad.size(), bad.toString());
        assertEquals(2, bad.get(0).get("line").asInt());
        assertTrue(bad.get(0).get("reason").asText().startsWith("field 'output'"), bad.toString());
        assertEquals(3, bad.get(1).get("line").asInt());
        assertTrue(bad.get(1).get("reason").asText().startsWith("invalid UTF-8 at byte offset 83: byte 0xFF"),
                bad.toString());
        assertEquals(4, bad.get(2).get("line").asInt());
    }
}
