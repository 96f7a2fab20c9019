package io.peft4j.spark.internal;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.AdapterRegistry;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The body of one inference partition, streaming: takes up to {@code batchSize} rows, makes sure their adapters
 * are loaded (once per executor, {@link AdapterCache}), generates for them and hands out the rows with
 * {@code generation} (and {@code exact_match} and {@code loss}) appended, then takes the next rows. A row's loss is
 * {@link Trainer#evaluate} of one example (prompt tokens masked, the reference's tokens scored) with the row's
 * adapter active. Greedy rows of one batch run
 * together whatever their adapters (a mixed-adapter batch through {@link PeftModel#withAdapters}); sampled rows run
 * one at a time with the job's seed, so each row's text is the one {@code peft4j generate --seed} gives.
 */
public final class PartitionGenerator implements Iterator<Row> {
    /** The purpose key of the base models inference uses ({@link BaseModels#get}). */
    static final String PURPOSE = "infer";

    private final InferJob job;
    private final Iterator<Row> input;
    private final boolean withReference;
    private final List<Row> ready = new ArrayList<>();
    private int position;

    private PartitionGenerator(InferJob job, Iterator<Row> input) {
        this.job = job;
        this.input = input;
        this.withReference = job.referenceIndex() >= 0;
    }

    /** The output rows of one partition (computed batch by batch as they are consumed). */
    public static Iterator<Row> run(InferJob job, Iterator<Row> rows) {
        return new PartitionGenerator(job, rows);
    }

    @Override
    public boolean hasNext() {
        if (position < ready.size()) {
            return true;
        }
        if (!input.hasNext()) {
            return false;
        }
        List<Row> batch = new ArrayList<>();
        while (input.hasNext() && batch.size() < job.batchSize()) {
            batch.add(input.next());
        }
        try {
            ready.clear();
            position = 0;
            ready.addAll(generate(batch));
        } catch (IOException | PeftException e) {
            throw new IllegalStateException("batch inference failed: " + e.getMessage(), e);
        }
        return true;
    }

    @Override
    public Row next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.get(position++);
    }

    private List<Row> generate(List<Row> batch) throws IOException, PeftException {
        BaseModels.Held held = BaseModels.get(job.modelPath(), job.quantization(), PURPOSE);
        Peft4jModel model = held.model();
        held.lock().lock();
        try {
            AdapterCache cache = AdapterCache.of(model.peft());
            List<String> names = new ArrayList<>();
            List<String> prompts = new ArrayList<>();
            ChatTemplate template = job.template() == null ? null
                    : ChatTemplate.resolve(job.template(), model.chatTemplate(), model.tokenizer());
            for (Row r : batch) {
                names.add(adapterName(cache, r));
                String prompt = r.getString(job.promptIndex());
                if (prompt == null) {
                    throw new IllegalArgumentException("a row has a null prompt");
                }
                prompts.add(template == null ? prompt : template.render(Conversation.of(Message.user(prompt)), true));
            }
            cache.evict(job.maxAdapters(), job.adapterBudgetBytes(), names);
            GenerationConfig config = job.generationConfig();
            List<String> texts = new ArrayList<>();
            if (config.sampling()) {
                for (int i = 0; i < prompts.size(); i++) {
                    texts.add(model.generateWith(names.get(i), prompts.get(i), config));
                }
            } else {
                try (MixedAdapterModel view = model.peft().withAdapters(names)) {
                    texts.addAll(new Generator(view, model.tokenizer()).generate(prompts, config, TokenListener.NONE)
                            .texts());
                }
            }
            Double[] losses = withReference ? losses(model, batch, names, prompts) : null;
            List<Row> out = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                out.add(withGeneration(batch.get(i), texts.get(i), losses == null ? null : losses[i]));
            }
            return out;
        } finally {
            held.lock().unlock();
        }
    }

    /**
     * Per row, the mean NLL of the reference's tokens after the rendered prompt with the row's adapter active (the
     * base for {@code __base__}); null for a null or empty reference. The active adapters are restored after.
     */
    private Double[] losses(Peft4jModel model, List<Row> batch, List<String> names, List<String> prompts) {
        Tokenizer tok = model.tokenizer();
        PeftModel peft = model.peft();
        List<String> active = peft.activeAdapters();
        Double[] out = new Double[batch.size()];
        TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(1).optBatchSize(1)   // evaluation only: no step runs
                .optPadTokenId(Math.max(0, tok.padTokenId())).build();
        try (Trainer trainer = new Trainer(peft, cfg)) {
            for (int i = 0; i < batch.size(); i++) {
                String ref = batch.get(i).getString(job.referenceIndex());
                if (ref == null || ref.isEmpty()) {
                    continue;
                }
                int[] prompt = tok.encode(prompts.get(i), true);
                int[] answer = tok.encode(ref, false);
                if (answer.length == 0) {
                    continue;
                }
                int[] ids = Arrays.copyOf(prompt, prompt.length + answer.length);
                System.arraycopy(answer, 0, ids, prompt.length, answer.length);
                int[] labels = ids.clone();
                Arrays.fill(labels, 0, prompt.length, Example.IGNORE);
                String name = names.get(i);
                if (name.equals(AdapterRegistry.BASE)) {
                    peft.setActiveAdapters();
                } else {
                    peft.setActiveAdapters(name);
                }
                out[i] = trainer.evaluate(List.of(new Example(ids, labels))).loss();
            }
        } finally {
            peft.setActiveAdapters(active.toArray(String[]::new));
        }
        return out;
    }

    /** The registry name for the row's adapter: {@code __base__} for a null, empty or {@code __base__} value. */
    private String adapterName(AdapterCache cache, Row r) throws IOException, PeftException {
        String value = job.adapterIndex() < 0 ? null : r.getString(job.adapterIndex());
        if (value == null || value.isBlank() || value.equals(AdapterRegistry.BASE)) {
            return AdapterRegistry.BASE;
        }
        String location = job.adapterLocation(value);
        Path dir = HadoopFolders.isHadoop(location) ? HadoopFolders.localCopy(location, job.hadoopConf().value())
                : Path.of(location);
        return cache.nameOf(dir);
    }

    private Row withGeneration(Row r, String text, Double loss) {
        int n = r.length();
        Object[] values = new Object[n + (withReference ? 3 : 1)];
        for (int i = 0; i < n; i++) {
            values[i] = r.get(i);
        }
        values[n] = text;
        if (withReference) {
            String ref = r.getString(job.referenceIndex());
            values[n + 1] = ref == null ? null : ref.strip().equals(text.strip());
            values[n + 2] = loss;
        }
        return RowFactory.create(values);
    }
}
