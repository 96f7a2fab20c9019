package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peft4j inspect --adapter}: a peft4j-written adapter is described exactly; bad folders exit 2 with one line. */
class InspectAdapterCommandTest {
    @TempDir
    Path tmp;

    @Test
    void inspectAdapter_peft4jAdapter_reportsConfigTensorsAndFingerprint() throws Exception {
        Path dir = tmp.resolve("adapter");
        String fingerprint;
        ModelConfig config = new ModelConfig("LlamaForCausalLM", "llama", 61, 32, 48, 2, 4, 2, 8, 1e-5, 10000.0,
                ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1);
        try (NDManager m = Peft4j.newManager();
             LlamaModel model = LlamaModel.random(config, 1, m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter(PeftModel.DEFAULT, LoraConfig.builder().optR(4).optLoraAlpha(8)
                    .optTargetModules(TargetModules.of("q_proj", "o_proj")).optBaseModelNameOrPath("tiny").build(), 1L);
            peft.save(dir);
            fingerprint = peft.fingerprint();
        }
        CliRun r = CliRun.of("inspect", "--adapter", dir.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.json();
        assertEquals("LORA", j.get("peft_type").asText());
        assertEquals("tiny", j.get("base_model_name_or_path").asText());
        assertEquals(4, j.get("r").asInt());
        assertEquals(8, j.get("lora_alpha").asInt());
        assertEquals("[\"o_proj\",\"q_proj\"]", sorted(j.get("target_modules")));
        assertEquals(8, j.get("tensors").asInt(), "2 layers x (q, o) x (A, B)");
        // q: A [4,32] + B [32,4]; o: A [4,32] + B [32,4]; two layers
        assertEquals(2 * 2 * (4 * 32 + 32 * 4), j.get("parameters").asLong());
        assertEquals(8, j.get("dtypes").get("F32").asInt());
        assertEquals(fingerprint, j.get("base_fingerprint").asText());
        assertNull(j.get("provenance").textValue(), "saved without provenance: null");
        assertEquals(Files.size(dir.resolve("adapter_model.safetensors")) + Files.size(dir.resolve("adapter_config.json")),
                j.get("file_bytes").asLong());
    }

    @Test
    void inspectAdapter_afterFinetune_showsProvenanceInJsonAndText() throws Exception {
        String model = TinyModelFolder.write(tmp.resolve("dense"), TinyModelFolder.TINY, 5).toString();
        Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"instruction\":\"a b\",\"output\":\"c d\"}\n"
                + "{\"instruction\":\"b c\",\"output\":\"d e\"}\n{\"instruction\":\"e f\",\"output\":\"g a\"}\n");
        Path out = tmp.resolve("ft");
        CliRun ft = CliRun.of("finetune", "--model", model, "--data", data.toString(), "--output", out.toString(),
                "--max-steps", "2", "--batch-size", "1", "--seed", "7", "--template", "alpaca", "--max-seq-len", "64",
                "--json");
        assertEquals(0, ft.code(), ft.err());

        CliRun r = CliRun.of("inspect", "--adapter", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode p = r.json().get("provenance");
        assertEquals(Provenance.currentVersion(), p.get("peft4j_version").asText());
        assertEquals("lora", p.get("method").asText());
        assertEquals(7, p.get("seed").asLong());
        assertEquals(2, p.get("steps").asLong());
        assertEquals(Provenance.sha256(data), p.get("data_sha256").asText());
        assertEquals("alpaca", p.get("template").asText());

        CliRun text = CliRun.of("inspect", "--adapter", out.toString());
        assertEquals(0, text.code(), text.err());
        String line = text.out().lines().filter(l -> l.startsWith("provenance: ")).findFirst().orElse("");
        assertTrue(line.contains("method=lora") && line.contains("seed=7") && line.contains("steps=2")
                && line.contains(Provenance.sha256(data)) && line.contains("template=alpaca"), text.out());
    }

    @Test
    void inspectAdapter_badFolders_exit2WithOneLineNamingTheFile() throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertOneLineExit2(CliRun.of("inspect", "--adapter", empty.toString()), "adapter_config.json");
        Path noWeights = Files.createDirectory(tmp.resolve("noweights"));
        Files.writeString(noWeights.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 8}");
        assertOneLineExit2(CliRun.of("inspect", "--adapter", noWeights.toString()), "adapter_model.safetensors");
        Path badJson = Files.createDirectory(tmp.resolve("badjson"));
        Files.writeString(badJson.resolve("adapter_config.json"), "{\"peft_type\": ");
        Files.write(badJson.resolve("adapter_model.safetensors"), new byte[16]);
        assertOneLineExit2(CliRun.of("inspect", "--adapter", badJson.toString()), "adapter_config.json");
        assertEquals(2, CliRun.of("inspect", "--adapter", empty.toString(), "--model", empty.toString()).code(),
                "a bad adapter with --model");
        assertOneLineExit2(CliRun.of("inspect"), "--help");
    }

    @Test
    void inspectAdapter_brokenAdapter_isValidatedAsGenerateWould() throws Exception {
        Path dir = tmp.resolve("adapter");
        Path model = TinyModelFolder.write(tmp.resolve("model"), TinyModelFolder.TINY, 5);
        Path other = TinyModelFolder.write(tmp.resolve("other"), new ModelConfig("LlamaForCausalLM", "llama", 8, 32,
                64, 2, 4, 2, 8, 1e-5, 10000.0, ModelConfig.RopeScaling.NONE, 128, true, false, -1, -1), 5);
        try (NDManager m = Peft4j.newManager(); LlamaModel base = LlamaModel.random(TinyModelFolder.TINY, 5, m);
             PeftModel peft = PeftModel.wrap(base)) {
            peft.addAdapter(PeftModel.DEFAULT, LoraConfig.builder().optR(4).optLoraAlpha(8)
                    .optTargetModules(TargetModules.of("q_proj")).build(), 1L);
            peft.save(dir);
        }
        CliRun ok = CliRun.of("inspect", "--adapter", dir.toString(), "--model", model.toString(), "--json");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.json().get("checked_against_model").asBoolean());
        assertOneLineExit2(CliRun.of("inspect", "--adapter", dir.toString(), "--model", other.toString()),
                "adapter");

        Path config = dir.resolve("adapter_config.json");
        String good = Files.readString(config);
        Files.writeString(config, good.replace("\"r\" : 4", "\"r\" : 8").replace("\"r\":4", "\"r\":8"));
        assertTrue(Files.readString(config).matches("(?s).*\"r\"\\s*:\\s*8.*"), Files.readString(config));
        assertOneLineExit2(CliRun.of("inspect", "--adapter", dir.toString()), "rank 8");

        Files.writeString(config, good.replace("\"use_dora\" : false", "\"use_dora\" : true")
                .replace("\"use_dora\":false", "\"use_dora\":true"));
        assertOneLineExit2(CliRun.of("inspect", "--adapter", dir.toString()), "lora_magnitude_vector");
    }

    private static void assertOneLineExit2(CliRun r, String names) {
        assertEquals(2, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("peft4j: ") && lines[0].contains(names), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    private static String sorted(JsonNode list) {
        java.util.List<String> out = new java.util.ArrayList<>();
        list.forEach(n -> out.add("\"" + n.asText() + "\""));
        java.util.Collections.sort(out);
        return "[" + String.join(",", out) + "]";
    }
}
