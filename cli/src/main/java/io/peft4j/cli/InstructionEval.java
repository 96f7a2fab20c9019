package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.EvalMetrics;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Encoded;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.datasets.Message;
import io.peft4j.datasets.TrainingExample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code peft4j eval} on instruction records: the loss and perplexity over the trained (response) tokens exactly as
 * {@link Trainer#evaluate} computes them on examples encoded by {@link ExampleEncoder} (the same path
 * {@code finetune --eval-data} takes), and, with generation, greedy answers scored against the reference
 * ({@link AnswerScore}). With few-shot records every scored record becomes one conversation: the shots' turns
 * (their {@code input} folded into the user turn, system turns dropped), then the record's own turns; only the
 * record's own answers are scored.
 *
 * <pre>{@code
 * InstructionEval e = new InstructionEval(template, tokenizer, 512, 4, shots);
 * Map<String, Object> r = e.loss(peft, records);             // loss, perplexity, tokens
 * r.putAll(e.generate(model, records, greedy, 5, status));   // exact_match, rouge_l, examples
 * }</pre>
 *
 * @param template  renders records (as in training)
 * @param tokenizer the model's tokenizer
 * @param maxSeqLen longest encoded example (as {@code finetune --max-seq-len})
 * @param batchSize examples per forward pass
 * @param shots     records prepended to each scored one (empty: zero-shot)
 */
record InstructionEval(ChatTemplate template, Tokenizer tokenizer, int maxSeqLen, int batchSize,
                       List<Conversation> shots) {

    /** Loss, perplexity and trained-token count of {@code records} (plus {@code dropped}: too long to keep). */
    Map<String, Object> loss(PeftModel peft, List<Conversation> records) throws PeftException {
        ExampleEncoder encoder = ExampleEncoder.builder().setTokenizer(tokenizer).setTemplate(template)
                .optMaxSeqLen(maxSeqLen).build();
        List<Example> examples = new ArrayList<>();
        int dropped = 0;
        for (Conversation c : records) {
            Encoded e = encoder.encode(withShots(shots, c));
            if (e.example() == null) {
                dropped++;
                continue;
            }
            TrainingExample t = e.example();
            int[] labels = shots.isEmpty() ? t.labels() : keepLastRuns(t.labels(), assistantTurns(c));
            examples.add(new Example(t.inputIds(), labels));
        }
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no record fits --max-seq-len " + maxSeqLen + " (" + dropped
                    + " dropped)");
        }
        TrainerConfig cfg = TrainerConfig.builder().optEpochs(1).optBatchSize(batchSize)
                .optPadTokenId(Math.max(0, tokenizer.padTokenId())).build();
        EvalMetrics m;
        try (Trainer trainer = new Trainer(peft, cfg)) {
            m = trainer.evaluate(examples);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("loss", m.loss());
        r.put("perplexity", m.perplexity());
        r.put("tokens", m.tokens());
        r.put("records", examples.size());
        r.put("dropped", dropped);
        return r;
    }

    /**
     * Greedy answers for every record that ends with an assistant turn, scored against that turn: the means of
     * {@code exact_match} and {@code rouge_l}, {@code generated} (how many were scored) and {@code examples}, the
     * first {@code shown} mismatches (record index, instruction, reference, answer, rouge_l).
     */
    Map<String, Object> generate(CausalLM model, List<Conversation> records, GenerationConfig greedy, int shown,
                                 Consumer<String> status) throws PeftException {
        List<String> prompts = new ArrayList<>();
        List<String> references = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            Conversation c = withShots(shots, records.get(i));
            List<Message> turns = c.messages();
            if (!turns.get(turns.size() - 1).isAssistant()) {
                continue;
            }
            Conversation question = new Conversation(turns.subList(0, turns.size() - 1), c.input());
            prompts.add(template.render(question, true));
            references.add(turns.get(turns.size() - 1).content());
            index.add(i);
        }
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("--generate: no record ends with an answer to compare against");
        }
        Generator generator = new Generator(model, tokenizer);
        double exact = 0;
        double rouge = 0;
        List<Map<String, Object>> mismatches = new ArrayList<>();
        for (int from = 0; from < prompts.size(); from += batchSize) {
            int to = Math.min(prompts.size(), from + batchSize);
            List<String> answers = generator.generate(prompts.subList(from, to), greedy, TokenListener.NONE).texts();
            for (int k = 0; k < answers.size(); k++) {
                String answer = answers.get(k).strip();
                String reference = references.get(from + k);
                boolean same = AnswerScore.exactMatch(answer, reference);
                double f1 = AnswerScore.rougeL(answer, reference);
                exact += same ? 1 : 0;
                rouge += f1;
                if (!same && mismatches.size() < shown) {
                    mismatches.add(mismatch(records.get(index.get(from + k)), index.get(from + k), reference,
                            answer, f1));
                }
            }
            status.accept("eval: generated " + to + " / " + prompts.size() + " answers");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("exact_match", exact / prompts.size());
        r.put("rouge_l", rouge / prompts.size());
        r.put("generated", prompts.size());
        r.put("examples", mismatches);
        return r;
    }

    private static Map<String, Object> mismatch(Conversation record, int index, String reference, String answer,
                                                double rougeL) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("record", index);
        String instruction = "";
        for (Message t : record.messages()) {
            if (Message.USER.equals(t.role())) {
                instruction = t.content();
            }
        }
        m.put("instruction", instruction);
        m.put("reference", reference);
        m.put("answer", answer);
        m.put("rouge_l", Math.round(rougeL * 10000) / 10000.0);
        return m;
    }

    /**
     * {@code query} with the {@code shots} before it as earlier turns: the query's leading system turns first, then
     * each shot's user and assistant turns ({@code input} appended to the user turn), then the query's own turns
     * (its {@code input} folded the same way). Without shots, {@code query} unchanged.
     */
    static Conversation withShots(List<Conversation> shots, Conversation query) {
        if (shots.isEmpty()) {
            return query;
        }
        List<Message> turns = new ArrayList<>();
        List<Message> own = query.messagesWithInput();
        int firstOwn = 0;
        while (firstOwn < own.size() && Message.SYSTEM.equals(own.get(firstOwn).role())) {
            turns.add(own.get(firstOwn++));
        }
        for (Conversation shot : shots) {
            for (Message m : shot.messagesWithInput()) {
                if (!Message.SYSTEM.equals(m.role())) {
                    turns.add(m);
                }
            }
        }
        turns.addAll(own.subList(firstOwn, own.size()));
        return new Conversation(turns, "");
    }

    /**
     * {@code labels} with every trained run but the last {@code runs} set to {@link Example#IGNORE}: a run is a
     * maximal stretch of trained positions, one per assistant turn, so this keeps the query's own answers and
     * drops the shots' answers from the loss.
     */
    static int[] keepLastRuns(int[] labels, int runs) {
        int[] out = labels.clone();
        int seen = 0;
        for (int t = out.length - 1; t >= 0; t--) {
            boolean trained = out[t] != Example.IGNORE;
            boolean runStart = trained && (t == 0 || out[t - 1] == Example.IGNORE);
            if (trained && seen >= runs) {
                out[t] = Example.IGNORE;
            }
            if (runStart) {
                seen++;
            }
        }
        return out;
    }

    private static int assistantTurns(Conversation c) {
        return (int) c.messages().stream().filter(Message::isAssistant).count();
    }
}
