package io.peft4j.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.ReferenceScripts;
import io.peft4j.core.testing.TestResources;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.peft4j.prompt.TinyModels.logits;
import static io.peft4j.prompt.TinyModels.maxDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt-tuning adapter files against Python PEFT ({@code scripts/interop/prompt_reference.py}) on the real SmolLM2
 * GGUF: an adapter PEFT creates (TEXT init) loads here with PEFT's logits and equals our own TEXT init of the same
 * text; an adapter peft4j trains loads in PEFT ({@code PeftModel.from_pretrained}) with no missing / unexpected keys
 * and the same logits. The same both ways for P-tuning (MLP encoder; the file holds the encoder's output) and for
 * prefix tuning (the prefix itself, and with PEFT's projection; the file holds {@code [P, layers·2·token_dim]} split
 * per layer as PEFT's {@code get_prompt} splits it, grouped-query dims included).
 *
 * <p>Cost: the class starts one Python process ({@code prompt_reference.py batch}, the GGUF loaded once) and
 * streams it every PEFT job: the four PEFT-made adapters first, then, as soon as {@link #setUp} has trained and
 * saved them, a {@code check} of each peft4j-trained adapter. Python's imports and load run while this side loads
 * the real model (once per class) and trains. The tests then only assert; {@link #deleteAdapters} leaves the shared
 * model bare between them. Each original check is still its own test method with its own message.
 */
class PromptTuningInteropIT {
    static final long[] IDS = {1, 504, 3458, 314, 253, 1345, 28, 1007};
    static final String INIT_TEXT = "Answer briefly and politely:";
    /** The bound on |peft4j - PEFT|, unless PEFT's own fp32 logits are further than that from fp64's. */
    static final float TOLERANCE = 1e-4f;
    static final List<String> PEFT_MADE = List.of("TEXT", "P_TUNING", "PREFIX_TUNING", "PREFIX_PROJECTION");
    @TempDir
    static Path tmp;
    static final long START = System.nanoTime();
    static NDManager manager;
    static Checkpoint ckpt;
    static LlamaModel model;
    static PeftModel peft;
    static NDArray ids;
    /** The bare model's logits of {@link #IDS}, taken before any adapter is attached. */
    static float[] base;
    /** Per trained adapter ("prompt tuning", "prefix tuning", "P-tuning"): peft4j's logits after training. */
    static final Map<String, float[]> MINE = new LinkedHashMap<>();
    /** Per trained adapter: PEFT's check report (missing / unexpected keys, loaded_max_diff). */
    static final Map<String, JsonNode> REPORTS = new LinkedHashMap<>();

    static PromptTuningConfig textInit(Checkpoint ckpt) {
        return PromptTuningConfig.builder().setNumVirtualTokens(8).optPromptTuningInitText(INIT_TEXT, ckpt.tokenizer())
                .optTokenizerNameOrPath(TestResources.testModel().getParent().toString()).build();
    }

    /** Starts PEFT's jobs, loads the real model, trains and saves peft4j's adapters and has PEFT check them. */
    @BeforeAll
    static void setUp() throws Exception {
        PeftJobs python = PeftJobs.start();
        for (String kind : PEFT_MADE) {
            python.send(Json.MAPPER.createObjectNode().put("create", tmp.resolve("py-" + kind).toString())
                    .put("init", kind).put("text", kind.equals("TEXT") ? INIT_TEXT : null));
        }
        manager = Peft4j.newManager();
        ckpt = Checkpoints.open(TestResources.testModel());
        model = LlamaModel.load(ckpt.config(), ckpt.tensors(), manager);
        peft = PeftModel.wrap(model);
        ids = manager.create(IDS, new Shape(1, IDS.length));
        base = logits(model, ids);
        phase("real model loaded, base logits");
        Map<String, Function<Checkpoint, PromptLearningConfig>> trained = new LinkedHashMap<>();
        trained.put("prompt tuning", PromptTuningInteropIT::textInit);
        trained.put("prefix tuning", c -> PrefixTuningConfig.builder().setNumVirtualTokens(8).build());
        trained.put("P-tuning", c -> PromptEncoderConfig.builder().setNumVirtualTokens(8).setEncoderHiddenSize(64)
                .build());
        int n = 0;
        for (var e : trained.entrySet()) {
            Path dir = tmp.resolve("java-" + n);
            MINE.put(e.getKey(), trainAndSave(e.getValue().apply(ckpt), dir));
            python.send(Json.MAPPER.createObjectNode().put("check", dir.toString())
                    .put("out", tmp.resolve("py-java-" + n++ + ".f32").toString()));
            phase("peft4j " + e.getKey() + " trained and saved");
        }
        List<JsonNode> results = python.finish();
        assertEquals(PEFT_MADE.size() + MINE.size(), results.size(), "one result per PEFT job");
        phase("PEFT's " + results.size() + " jobs done, seconds each: " + results.stream().map(r -> r.get("seconds"))
                .toList());
        List<String> names = List.copyOf(MINE.keySet());
        for (int i = 0; i < names.size(); i++) {
            REPORTS.put(names.get(i), results.get(PEFT_MADE.size() + i));
        }
    }

    @AfterEach
    void deleteAdapters() {
        List.copyOf(peft.adapterNames()).forEach(peft::deleteAdapter);
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {peft, model, ckpt, manager}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void peftCreatedTextInitAdapter_loadsHere_withPeftLogits_andEqualsOurTextInit() throws Exception {
        Path dir = tmp.resolve("py-TEXT");
        float[] want = ReferenceScripts.readF32(dir.resolve("logits.f32"));
        float[] exact = ReferenceScripts.readF32(dir.resolve("logits.fp64.f32"));
        float[] peftTable;
        try (SafetensorsReader r = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            peftTable = r.readFloats("prompt_embeddings");
        }
        peft.loadAdapter(dir, "default");
        float[] got = logits(peft.asCausalLM(), ids);
        assertTrue(maxDiff(base, got) > 1e-2, "the prompt changes the logits");
        assertAsCloseAsPeft(want, exact, got, "PEFT-made prompt (moves logits by " + maxDiff(base, got) + ")");
        peft.addAdapter("ours", textInit(ckpt), 0L);
        float[] ours = peft.adapter("ours").stateDict().get("prompt_embeddings").toFloatArray();
        System.err.printf("TEXT init: max |d| vs PEFT's table %.3g%n", maxDiff(peftTable, ours));
        assertTrue(maxDiff(peftTable, ours) < 1e-5, "TEXT init equals PEFT's: " + maxDiff(peftTable, ours));
    }

    @ParameterizedTest
    @ValueSource(strings = {"P_TUNING", "PREFIX_TUNING", "PREFIX_PROJECTION"})
    void peftCreatedEncoderOrPrefixAdapter_loadsHere_withPeftLogits(String kind) throws Exception {
        Path dir = tmp.resolve("py-" + kind);
        float[] want = ReferenceScripts.readF32(dir.resolve("logits.f32"));
        float[] exact = ReferenceScripts.readF32(dir.resolve("logits.fp64.f32"));
        peft.loadAdapter(dir, "default");
        float[] got = logits(peft.asCausalLM(), ids);
        assertTrue(maxDiff(base, got) > 1e-2, "the prompt changes the logits");
        assertAsCloseAsPeft(want, exact, got, "PEFT-made " + kind + " (moves logits by " + maxDiff(base, got) + ")");
    }

    @Test
    void peft4jTrainedPrefixAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        assertLoadsInPeft("prefix tuning");
    }

    @Test
    void peft4jTrainedPTuningAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        assertLoadsInPeft("P-tuning");
    }

    @Test
    void peft4jTrainedAdapter_loadsInPeft_noMissingKeys_sameLogits() throws Exception {
        assertLoadsInPeft("prompt tuning");
    }

    /** Attaches {@code config} as "default" (seed 7), trains 3 steps, saves it to {@code dir}, returns its logits. */
    private static float[] trainAndSave(PromptLearningConfig config, Path dir) throws Exception {
        peft.addAdapter("default", config, 7L);
        try {
            List<Example> data = new ArrayList<>();
            for (String s : List.of("The cat sat on the mat.", "Two plus two is four.", "Paris is in France.",
                    "Water boils at 100 degrees.")) {
                data.add(Example.unmasked(ckpt.tokenizer().encode(s, true)));
            }
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(3).optBatchSize(4).optLearningRate(3e-2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.train(data, null);
            }
            peft.save(dir);
            return logits(peft.asCausalLM(), ids);
        } finally {
            peft.deleteAdapter("default");
        }
    }

    private static void assertLoadsInPeft(String what) throws Exception {
        JsonNode report = REPORTS.get(what);
        int n = List.copyOf(MINE.keySet()).indexOf(what);
        assertEquals(0, report.get("missing").size(), "missing keys: " + report.get("missing"));
        assertEquals(0, report.get("unexpected").size(), "unexpected keys: " + report.get("unexpected"));
        assertEquals(0.0, report.get("loaded_max_diff").asDouble(), "PEFT's table is the file's");
        float[] theirs = ReferenceScripts.readF32(tmp.resolve("py-java-" + n + ".f32"));
        float[] exact = ReferenceScripts.readF32(tmp.resolve("py-java-" + n + ".fp64.f32"));
        assertAsCloseAsPeft(theirs, exact, MINE.get(what), "peft4j-trained " + what + " in PEFT");
    }

    /**
     * peft4j's logits {@code got} against PEFT's fp32 logits {@code peft} and the float64 forward {@code exact}: within
     * {@link #TOLERANCE} of PEFT where fp32 allows it. Where PEFT's own fp32 result is further than that from the exact
     * values (a prefix of N(0, 1) keys and values moves the logits by ~45, and 30 layers of fp32 sums then lose a few
     * 1e-4 in any implementation), peft4j must be as accurate as PEFT within a factor 3 (|got - exact| <= 3 e,
     * e = |peft - exact|), which bounds |got - peft| by 4 e.
     */
    private static void assertAsCloseAsPeft(float[] peft, float[] exact, float[] got, String what) {
        float peftError = maxDiff(peft, exact);
        float toExact = Math.max(TOLERANCE, 3f * peftError);
        float toPeft = Math.max(TOLERANCE, 4f * peftError);
        System.err.printf("%s: max |d| vs PEFT %.3g (bound %.3g), vs fp64 %.3g (bound %.3g); PEFT's fp32 vs fp64 %.3g%n",
                what, maxDiff(peft, got), toPeft, maxDiff(exact, got), toExact, peftError);
        assertTrue(maxDiff(peft, got) < toPeft, what + ": max |d| vs PEFT " + maxDiff(peft, got) + " >= " + toPeft);
        assertTrue(maxDiff(exact, got) < toExact, what + ": max |d| vs fp64 " + maxDiff(exact, got) + " >= "
                + toExact);
    }

    private static void phase(String what) {
        System.err.printf("[%.1f s] %s%n", (System.nanoTime() - START) / 1e9, what);
    }

    /**
     * One {@code prompt_reference.py batch} process in the reference venv: jobs go in as JSON lines on its stdin, and
     * {@link #finish} returns one JSON result per job, in order, failing with Python's stderr on a non-zero exit.
     */
    record PeftJobs(Process process, Writer in, Path err) {
        static PeftJobs start() throws IOException {
            Path err = Files.createTempFile("prompt_reference", ".log");
            ProcessBuilder pb = new ProcessBuilder(TestResources.referencePython().toString(),
                    TestResources.repoRoot().resolve("scripts/interop/prompt_reference.py").toString(), "batch")
                    .redirectError(err.toFile());
            pb.environment().put("PEFT4J_TEST_MODEL", TestResources.testModel().toString());
            Process p = pb.start();
            return new PeftJobs(p, new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), err);
        }

        void send(JsonNode job) throws IOException {
            try {
                in.write(job.toString() + "\n");
                in.flush();
            } catch (IOException e) {
                throw new AssertionError("prompt_reference.py batch stopped: " + Files.readString(err), e);
            }
        }

        List<JsonNode> finish() throws IOException, InterruptedException {
            in.close();
            List<JsonNode> out = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("{\"") && line.contains("\"job\"")) {
                        out.add(Json.MAPPER.readTree(line));
                    }
                }
            }
            assertTrue(process.waitFor(15, TimeUnit.MINUTES), "prompt_reference.py batch timed out");
            assertEquals(0, process.exitValue(), "prompt_reference.py batch failed: " + Files.readString(err));
            for (int i = 0; i < out.size(); i++) {
                assertEquals(i, out.get(i).get("job").asInt(), "job order");
            }
            return out;
        }
    }
}
