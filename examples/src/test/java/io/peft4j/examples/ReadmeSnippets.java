package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The README's "Using the library" code, verbatim between the {@code tag::}/{@code end::} markers
 * ({@link ReadmeSnippetsTest} runs each one and checks that README.md contains it). Each snippet is at most 10 lines
 * and touches no {@code NDManager}, {@code LinearLayerFactory}, {@code TensorSource} or concrete model class.
 */
final class ReadmeSnippets {
    private ReadmeSnippets() {
    }

    static String loadAndGenerate(Path modelPath) throws Exception {
        String text;
        // tag::load-generate[]
        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).build()) {
            text = model.generate("The capital of France is");
        }
        // end::load-generate[]
        return text;
    }

    static String adapterAndGenerate(Path modelPath, Path adapterDir) throws Exception {
        String text;
        // tag::adapter-generate[]
        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).build()) {
            model.loadAdapter(adapterDir, "default");
            text = model.generate("The capital of France is", GenerationConfig.builder().optMaxNewTokens(16).build());
        }
        // end::adapter-generate[]
        return text;
    }

    static TrainingResult qloraFineTune(Path modelPath, Path dataFile, Path adapterDir) throws Exception {
        TrainingResult result;
        // tag::qlora-finetune[]
        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).optQuantization("nf4").build()) {
            model.addAdapter("default", LoraConfig.builder().optR(8).optTargetModules(TargetModules.ALL_LINEAR).build(), 42);
            ChatTemplate template = ChatTemplate.resolve("alpaca", model.chatTemplate(), model.tokenizer());
            List<Conversation> data = DatasetReader.builder().setPath(dataFile).build().readAll().records();
            List<Example> train = ExampleEncoder.builder().setTokenizer(model.tokenizer()).setTemplate(template).build()
                    .encodeAll(data).forTrainer();
            result = model.train(train, List.of(), TrainerConfig.builder().optMaxSteps(20).optLearningRate(5e-3).build());
            model.saveAdapters(adapterDir);
        }
        // end::qlora-finetune[]
        return result;
    }

    static List<String> hotSwap(Path modelPath, Path sqlAdapter, Path chatAdapter) throws Exception {
        List<String> answers;
        // tag::hot-swap[]
        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).build()) {
            model.loadAdapter(sqlAdapter, "sql");
            model.loadAdapter(chatAdapter, "chat");
            GenerationConfig config = GenerationConfig.builder().optMaxNewTokens(16).build();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            Future<String> sql = pool.submit(() -> model.generateWith("sql", "List all users", config));
            Future<String> chat = pool.submit(() -> model.generateWith("chat", "Hello", config));
            answers = List.of(sql.get(), chat.get());
            pool.shutdown();
        }
        // end::hot-swap[]
        return answers;
    }

    static void mergeAndExport(Path modelPath, Path adapterDir, Path mergedDir) throws Exception {
        // tag::merge-export[]
        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).optAdapter(adapterDir).build()) {
            model.mergeAndExport(mergedDir);   // a dense Hugging Face folder transformers loads too
        }
        // end::merge-export[]
    }
}
