package io.peft4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.testing.TestResources;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs an example's {@code main} in this JVM and returns what it printed (also echoed to the real stdout, so the
 * failsafe report shows it), plus the small data files the example ITs feed it, written to a temp folder (never
 * into the repository).
 */
final class ExampleRun {
    interface Main {
        void run(String[] args) throws Exception;
    }

    private ExampleRun() {
    }

    /** Calls {@code main(args)} with {@code System.out} captured. */
    static synchronized String capture(Main main, String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream tee = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                buffer.write(b);
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                buffer.write(b, off, len);
                original.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
        System.setOut(tee);
        try {
            main.run(args);
        } finally {
            tee.flush();
            System.setOut(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    /** The number in {@code group(1)} of the first match of {@code regex} in {@code text}; fails if there is none. */
    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for /" + regex + "/ in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    /** Every match of {@code group(1)} of {@code regex} in {@code text}. */
    static List<String> all(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        List<String> out = new ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /**
     * Saves a non-zero LoRA for {@code model} (r 8 on q_proj/v_proj, A and B random as PEFT's
     * {@code init_lora_weights=False}) to {@code dir}: a stand-in for a trained adapter that visibly changes answers.
     */
    static Path randomLora(Path model, Path dir, long seed) throws Exception {
        try (Peft4jModel m = Peft4jModel.builder().setPath(model).build()) {
            m.addAdapter("default", LoraConfig.builder().optR(8).optLoraAlpha(16)
                    .optTargetModules(TargetModules.of("q_proj", "v_proj"))
                    .optInitLoraWeights(InitLoraWeights.RANDOM).build(), seed);
            m.saveAdapters(dir);
        }
        return dir;
    }

    /**
     * {@code count} short Alpaca records (no input, answer under 40 characters) from the shared Alpaca subset,
     * written as JSONL to {@code file}: real instruction data, small enough for a few training steps.
     */
    static Path shortAlpaca(Path file, int count) throws Exception {
        JsonNode all = Json.MAPPER.readTree(TestResources.shared("datasets/alpaca-subset/alpaca_5000.json").toFile());
        List<String> lines = new ArrayList<>();
        for (JsonNode r : all) {
            if (r.path("input").asText().isEmpty() && r.path("output").asText().length() < 40
                    && r.path("instruction").asText().length() < 100) {
                ObjectNode o = Json.MAPPER.createObjectNode();
                o.put("instruction", r.path("instruction").asText());
                o.put("output", r.path("output").asText());
                lines.add(Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o));
                if (lines.size() == count) {
                    break;
                }
            }
        }
        Files.write(file, lines);
        return file;
    }
}
