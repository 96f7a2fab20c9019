package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.Message;
import io.peft4j.datasets.Split;
import io.peft4j.prompt.PromptTuningConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Prompt tuning (Lester et al. 2021, arXiv:2104.08691) as a classifier: a few trainable virtual-token embeddings,
 * initialised from the text of a task description, are prepended to every input of the frozen model and trained on
 * a small classification-style instruction set (Alpaca-style JSONL whose {@code output} is the label, e.g.
 * {@code positive} / {@code negative}). A quarter of the records is held out; the example prints the held-out loss
 * and accuracy (the greedy answer starts with the label, ignoring case) of the plain model and of the trained soft
 * prompt, and saves the prompt in PEFT's layout ({@code prompt_embeddings}).
 *
 * <pre>
 * ./peft4j example PromptTuningClassifier MODEL DATA.jsonl ADAPTER_OUT [STEPS=100] [VIRTUAL_TOKENS=16]
 * </pre>
 */
public final class PromptTuningClassifier {
    private static final String TASK = "Classify the text. Answer with the label only.";

    private PromptTuningClassifier() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: ./peft4j example PromptTuningClassifier MODEL DATA.jsonl "
                    + "ADAPTER_OUT [STEPS=100] [VIRTUAL_TOKENS=16]");
        }
        Path modelPath = Path.of(args[0]);
        Path data = Path.of(args[1]);
        Path adapterOut = Path.of(args[2]);
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        int virtualTokens = args.length > 4 ? Integer.parseInt(args[4]) : 16;

        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).build()) {
            ChatTemplate template = ChatTemplate.resolve("chat", model.chatTemplate(), model.tokenizer());
            List<Conversation> records = DatasetReader.builder().setPath(data).build().readAll().records();
            Split<Conversation> split = Split.of(records, 0.25, 7);
            ExampleEncoder encoder = ExampleEncoder.builder().setTokenizer(model.tokenizer()).setTemplate(template)
                    .optMaxSeqLen(192).build();
            List<Example> train = encoder.encodeAll(split.train()).forTrainer();
            List<Example> heldOut = encoder.encodeAll(split.validation()).forTrainer();
            System.out.println("records: " + train.size() + " train, " + heldOut.size() + " held out");
            TrainerConfig config = TrainerConfig.builder().optMaxSteps(steps).optLearningRate(3e-2).optBatchSize(4)
                    .optSeed(7).optPadTokenId(Math.max(0, model.tokenizer().padTokenId())).build();

            try (Trainer trainer = new Trainer(model.peft(), config)) {
                report("before (no soft prompt)", trainer.evaluate(heldOut),
                        accuracy(model, template, split.validation()));

                PromptTuningConfig prompt = PromptTuningConfig.builder().setNumVirtualTokens(virtualTokens)
                        .optPromptTuningInitText(TASK, model.tokenizer()).optBaseModelNameOrPath(modelPath.toString())
                        .build();
                model.addAdapter("default", prompt, 7);
                System.out.println(model.peft().trainableParameters());
                trainer.train(train, List.of());
                report("after (" + steps + " steps)", trainer.evaluate(heldOut),
                        accuracy(model, template, split.validation()));
            }
            model.saveAdapters(adapterOut);
            System.out.println("adapter saved to " + adapterOut.toAbsolutePath());
        }
    }

    private static void report(String when, EvalMetrics loss, double accuracy) {
        System.out.printf("%s: held-out loss %.4f, accuracy %.3f%n", when, loss.loss(), accuracy);
    }

    /** The share of records whose greedy answer starts with the record's label (case ignored). */
    static double accuracy(Peft4jModel model, ChatTemplate template, List<Conversation> records) throws Exception {
        GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(4).build();
        int correct = 0;
        for (Conversation record : records) {
            List<Message> turns = record.messagesWithInput();
            String label = turns.get(turns.size() - 1).content().strip().toLowerCase(Locale.ROOT);
            Conversation question = new Conversation(turns.subList(0, turns.size() - 1), "");
            String answer = model.generate(template.render(question, true), greedy).strip().toLowerCase(Locale.ROOT);
            correct += answer.startsWith(label) ? 1 : 0;
        }
        return (double) correct / records.size();
    }
}
