package io.peft4j.examples;

import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.preference.PreferenceConfig;
import io.peft4j.core.train.preference.PreferenceObjective;
import io.peft4j.core.train.preference.PreferencePair;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.PreferenceEncoder;
import io.peft4j.datasets.PreferenceReader;
import io.peft4j.datasets.PreferenceRecord;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * DPO (Rafailov et al. 2023, arXiv:2305.18290) of a LoRA adapter on preference pairs in trl's formats
 * ({@code prompt} / {@code chosen} / {@code rejected}): the reference policy is the same frozen base with the adapter
 * switched off, so only one copy of the model is held. Prints, on a held-out preference file, trl's
 * {@code rewards/accuracies} and {@code rewards/margins} and the chosen-minus-rejected log-prob margin before and
 * after training, and how many held-out prompts the greedy answer prefers the chosen answer on: the prompt plus the
 * words both answers share is given, and the next greedy word is compared with the next word of each answer. Saves
 * the adapter in PEFT's layout.
 *
 * <pre>
 * ./peft4j example PreferenceTuning MODEL TRAIN.jsonl HELD_OUT.jsonl ADAPTER_OUT [STEPS=40] [BETA=0.1]
 * </pre>
 */
public final class PreferenceTuning {
    private PreferenceTuning() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: ./peft4j example PreferenceTuning MODEL TRAIN.jsonl "
                    + "HELD_OUT.jsonl ADAPTER_OUT [STEPS=40] [BETA=0.1]");
        }
        Path modelPath = Path.of(args[0]);
        Path adapterOut = Path.of(args[3]);
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 40;
        double beta = args.length > 5 ? Double.parseDouble(args[5]) : 0.1;

        try (Peft4jModel model = Peft4jModel.builder().setPath(modelPath).build()) {
            ChatTemplate template = ChatTemplate.resolve("chat", model.chatTemplate(), model.tokenizer());
            List<PreferenceRecord> trainRecords = PreferenceReader.builder().setPath(Path.of(args[1])).build()
                    .readAll().records();
            List<PreferenceRecord> heldOutRecords = PreferenceReader.builder().setPath(Path.of(args[2])).build()
                    .readAll().records();
            PreferenceEncoder encoder = PreferenceEncoder.builder().setTokenizer(model.tokenizer())
                    .optTemplate(template).optMaxLength(384).build();
            List<Example> train = PreferencePair.rows(encoder.encodeAll(trainRecords).pairs());
            List<Example> heldOut = PreferencePair.rows(encoder.encodeAll(heldOutRecords).pairs());
            System.out.println("pairs: " + train.size() / 2 + " train, " + heldOut.size() / 2 + " held out");

            model.addAdapter("default", LoraConfig.builder().optR(8).optLoraAlpha(16)
                    .optTargetModules(TargetModules.ALL_LINEAR).build(), 7);
            System.out.println(model.peft().trainableParameters());
            PreferenceObjective dpo = PreferenceObjective.of(PreferenceConfig.builder().optBeta(beta)
                    .optPrecomputeRefLogProbs(true).build());
            TrainerConfig config = TrainerConfig.builder().optMaxSteps(steps).optBatchSize(2).optLearningRate(1e-3)
                    .optSeed(7).optPadTokenId(Math.max(0, model.tokenizer().padTokenId())).build();
            try (Trainer trainer = new Trainer(model.peft(), config, dpo)) {
                long t0 = System.nanoTime();
                EvalMetrics before = trainer.evaluate(heldOut);
                long t1 = System.nanoTime();
                report("before", before, greedyPrefersChosen(model, template, heldOutRecords), heldOutRecords.size(),
                        t0, t1);
                t0 = System.nanoTime();
                double loss = trainer.train(train, List.of()).trainLoss();
                System.out.printf("trained %d steps in %.1f s, last loss %.4f%n", steps, (System.nanoTime() - t0) / 1e9,
                        loss);
                t0 = System.nanoTime();
                EvalMetrics after = trainer.evaluate(heldOut);
                t1 = System.nanoTime();
                report("after " + steps + " steps", after, greedyPrefersChosen(model, template, heldOutRecords),
                        heldOutRecords.size(), t0, t1);
            }
            model.saveAdapters(adapterOut);
            System.out.println("adapter saved to " + adapterOut.toAbsolutePath());
        }
    }

    /** One line; {@code evalStart}..{@code evalEnd} timed the evaluation, the greedy check ran from then to now. */
    private static void report(String when, EvalMetrics m, int preferred, int records, long evalStart, long evalEnd) {
        System.out.printf("%s: held-out rewards/accuracies %.3f, rewards/margins %.4f, log-prob margin %.4f, "
                        + "greedy prefers chosen %d of %d (eval %.1f s, greedy %.1f s)%n", when,
                m.metrics().get("rewards/accuracies"), m.metrics().get("rewards/margins"),
                m.metrics().get("logps/chosen") - m.metrics().get("logps/rejected"), preferred, records,
                (evalEnd - evalStart) / 1e9, (System.nanoTime() - evalEnd) / 1e9);
    }

    /**
     * How many records' greedy continuation of (prompt + the words both answers share) starts with the chosen
     * answer's next word rather than the rejected one's (ties, where neither matches, count for neither).
     */
    static int greedyPrefersChosen(Peft4jModel model, ChatTemplate template, List<PreferenceRecord> records)
            throws Exception {
        List<String> prompts = new ArrayList<>();
        List<String[]> nextWords = new ArrayList<>();
        for (PreferenceRecord r : records) {
            String chosen = r.chosen().get(r.chosen().size() - 1).content();
            String rejected = r.rejected().get(r.rejected().size() - 1).content();
            int shared = sharedWords(chosen, rejected);
            prompts.add(template.render(new Conversation(r.prompt(), ""), true) + chosen.substring(0, shared));
            nextWords.add(new String[] {firstWord(chosen.substring(shared)), firstWord(rejected.substring(shared))});
        }
        List<String> answers = model.generate(prompts, GenerationConfig.builder().optMaxNewTokens(6).build(),
                (row, token, text) -> { })
                .texts();
        int preferred = 0;
        for (int i = 0; i < answers.size(); i++) {
            String word = firstWord(answers.get(i));
            preferred += word.equals(nextWords.get(i)[0]) && !word.equals(nextWords.get(i)[1]) ? 1 : 0;
        }
        return preferred;
    }

    /**
     * Where the words {@code a} and {@code b} share end: the index of the last whitespace character inside their
     * common prefix (so the next word keeps its leading space, as tokenizers expect), or 0.
     */
    static int sharedWords(String a, String b) {
        int n = 0;
        while (n < Math.min(a.length(), b.length()) && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        for (int w = n - 1; w > 0; w--) {
            if (Character.isWhitespace(a.charAt(w))) {
                return w;
            }
        }
        return 0;
    }

    /** The first whitespace-delimited word of {@code s} (empty when there is none). */
    static String firstWord(String s) {
        String t = s.strip();
        int end = 0;
        while (end < t.length() && !Character.isWhitespace(t.charAt(end))) {
            end++;
        }
        return t.substring(0, end);
    }
}
