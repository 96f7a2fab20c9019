package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.pretrained.Peft4jModelBuilder;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.Message;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scores an adapter (or the plain model, with {@code none}) on a held-out instruction file: the loss and perplexity
 * over the answer tokens, computed by {@link Trainer#evaluate} on the records encoded exactly as for training, and
 * the exact match (after trimming) of greedy answers against the references. With {@code FEW_SHOT} K the first K
 * records are not scored but shown, solved, before every question (earlier turns of the same chat): an in-context
 * baseline to compare adapters against. The loss is always that of the record alone; {@code peft4j eval --few-shot}
 * also scores the loss with the shots in front.
 *
 * <pre>
 * ./peft4j example EvaluateAdapter MODEL DATA.jsonl [ADAPTER_DIR|none] [FEW_SHOT=0] [MAX_NEW_TOKENS=64]
 * ./peft4j example EvaluateAdapter ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf val.jsonl my-adapter 2
 * </pre>
 */
public final class EvaluateAdapter {
    private EvaluateAdapter() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: ./peft4j example EvaluateAdapter MODEL DATA.jsonl "
                    + "[ADAPTER_DIR|none] [FEW_SHOT=0] [MAX_NEW_TOKENS=64]");
        }
        Path data = Path.of(args[1]);
        String adapter = args.length > 2 ? args[2] : "none";
        int fewShot = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        int maxNewTokens = args.length > 4 ? Integer.parseInt(args[4]) : 64;

        Peft4jModelBuilder builder = Peft4jModel.builder().setPath(Path.of(args[0]));
        if (!adapter.equals("none")) {
            builder.optAdapter(Path.of(adapter));
        }
        try (Peft4jModel model = builder.build()) {
            ChatTemplate template = ChatTemplate.resolve("chat", model.chatTemplate(), model.tokenizer());
            List<Conversation> records = DatasetReader.builder().setPath(data).build().readAll().records();
            if (fewShot >= records.size()) {
                throw new IllegalArgumentException(data + " has " + records.size() + " records: too few for "
                        + fewShot + " shots and at least one scored record");
            }
            List<Conversation> shots = records.subList(0, fewShot);
            List<Conversation> scored = records.subList(fewShot, records.size());

            // Loss and perplexity over the answer tokens, as the Trainer computes them during training.
            List<Example> examples = ExampleEncoder.builder().setTokenizer(model.tokenizer()).setTemplate(template)
                    .optMaxSeqLen(512).build().encodeAll(scored).forTrainer();
            TrainerConfig config = TrainerConfig.builder().optEpochs(1).optBatchSize(4)
                    .optPadTokenId(Math.max(0, model.tokenizer().padTokenId())).build();
            EvalMetrics m;
            try (Trainer trainer = new Trainer(model.peft(), config)) {
                m = trainer.evaluate(examples);
            }
            System.out.printf("adapter %s, %d records, %d-shot%n", adapter, scored.size(), fewShot);
            System.out.printf("loss %.4f, perplexity %.3f over %d answer tokens%n", m.loss(), m.perplexity(),
                    m.tokens());

            // Exact match of greedy answers, with the shots as earlier turns of the chat.
            GenerationConfig greedy = GenerationConfig.builder().optMaxNewTokens(maxNewTokens).build();
            int exact = 0;
            int mismatches = 0;
            for (Conversation record : scored) {
                List<Message> turns = new ArrayList<>();
                for (Conversation shot : shots) {
                    shot.messagesWithInput().stream().filter(t -> !Message.SYSTEM.equals(t.role()))
                            .forEach(turns::add);
                }
                List<Message> own = record.messagesWithInput();
                turns.addAll(own.subList(0, own.size() - 1));
                String reference = own.get(own.size() - 1).content().strip();
                String answer = model.generate(template.render(new Conversation(turns, ""), true), greedy).strip();
                if (answer.equals(reference)) {
                    exact++;
                } else if (mismatches++ < 3) {
                    System.out.println("  expected \"" + oneLine(reference) + "\", got \"" + oneLine(answer) + "\"");
                }
            }
            System.out.printf("exact match %.3f (%d of %d)%n", (double) exact / scored.size(), exact, scored.size());
        }
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ');
    }
}
