package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.Message;
import io.peft4j.datasets.Split;
import io.peft4j.qlora.QLoraModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QLoRA instruction tuning (arXiv 2305.14314): the base quantized to NF4 with double quantization while it loads,
 * LoRA on every linear layer, trained on an Alpaca-style JSONL ({@code instruction}, optional {@code input},
 * {@code output}) rendered with the model's own chat template. A fifth of the records is held out: the example
 * prints the held-out loss (over the answer tokens) before and after training and three held-out answers before and
 * after, and saves the adapter in PEFT's layout (Python PEFT loads it with {@code PeftModel.from_pretrained}).
 *
 * <pre>
 * ./peft4j example QLoraInstructionTuning MODEL DATA.jsonl ADAPTER_OUT [STEPS=60] [MAX_NEW_TOKENS=48]
 * ./peft4j example QLoraInstructionTuning ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf train.jsonl my-adapter
 * </pre>
 */
public final class QLoraInstructionTuning {
    private QLoraInstructionTuning() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: ./peft4j example QLoraInstructionTuning MODEL DATA.jsonl "
                    + "ADAPTER_OUT [STEPS=60] [MAX_NEW_TOKENS=48]");
        }
        Path modelPath = Path.of(args[0]);
        Path data = Path.of(args[1]);
        Path adapterOut = Path.of(args[2]);
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 60;
        int maxNewTokens = args.length > 4 ? Integer.parseInt(args[4]) : 48;

        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).optQuantization("nf4").build()) {
            // 1. Records -> held-out split -> token ids with the answer tokens as labels (the prompt is masked).
            ChatTemplate template = ChatTemplate.resolve("chat", model.chatTemplate(), model.tokenizer());
            List<Conversation> records = DatasetReader.builder().setPath(data).build().readAll().records();
            Split<Conversation> split = Split.of(records, 0.2, 42);
            ExampleEncoder encoder = ExampleEncoder.builder().setTokenizer(model.tokenizer()).setTemplate(template)
                    .optMaxSeqLen(256).build();
            List<Example> train = encoder.encodeAll(split.train()).forTrainer();
            List<Example> heldOut = encoder.encodeAll(split.validation()).forTrainer();
            List<Conversation> shown = split.validation().subList(0, Math.min(3, split.validation().size()));
            System.out.println("records: " + train.size() + " train, " + heldOut.size() + " held out");

            // 2. LoRA r=16 on every linear layer (B starts at zero, so the untrained adapter changes nothing).
            model.addAdapter("default", QLoraModel.DEFAULT_LORA, 42);
            System.out.println(model.peft().trainableParameters());
            GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxNewTokens).build();
            List<String> before = answers(model, template, shown, greedy);

            // 3. Train, evaluating the held-out answers before and after.
            TrainerConfig config = TrainerConfig.builder().optMaxSteps(steps).optLearningRate(2e-4).optBatchSize(4)
                    .optWarmupSteps(Math.min(5, steps / 10)).optSchedule(LrSchedule.COSINE).optSeed(42)
                    .optPadTokenId(Math.max(0, model.tokenizer().padTokenId())).build();
            EvalMetrics lossBefore;
            TrainingResult result;
            EvalMetrics lossAfter;
            try (Trainer trainer = new Trainer(model.peft(), config)) {
                lossBefore = trainer.evaluate(heldOut);
                result = trainer.train(train, List.of());
                lossAfter = trainer.evaluate(heldOut);
            }
            System.out.printf("held-out loss before: %.4f (perplexity %.2f)%n", lossBefore.loss(),
                    lossBefore.perplexity());
            System.out.printf("held-out loss after:  %.4f (perplexity %.2f), %d steps, train loss %.4f%n",
                    lossAfter.loss(), lossAfter.perplexity(), result.steps(), result.trainLoss());

            // 4. Save the adapter and compare the answers.
            model.saveAdapters(adapterOut);
            System.out.println("adapter saved to " + adapterOut.toAbsolutePath());
            List<String> after = answers(model, template, shown, greedy);
            for (int i = 0; i < shown.size(); i++) {
                System.out.println("question: " + oneLine(question(shown.get(i)).messages().get(0).content()));
                System.out.println("  before: " + oneLine(before.get(i)));
                System.out.println("  after:  " + oneLine(after.get(i)));
            }
        }
    }

    /** Greedy answers of the active adapters to each record's question. */
    static List<String> answers(Peft4jModel model, ChatTemplate template, List<Conversation> records,
                                GenerationConfig greedy) throws Exception {
        List<String> out = new ArrayList<>();
        for (Conversation c : records) {
            out.add(model.generate(template.render(question(c), true), greedy).strip());
        }
        return out;
    }

    /** The record without its answer: its turns (the {@code input} folded into the user turn) but the last. */
    static Conversation question(Conversation record) {
        List<Message> turns = record.messagesWithInput();
        return new Conversation(turns.subList(0, turns.size() - 1), "");
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ');
    }
}
