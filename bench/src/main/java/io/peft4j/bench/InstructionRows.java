package io.peft4j.bench;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.EncodedDataset;
import io.peft4j.datasets.ExampleEncoder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Instruction data for {@link TrainBenchmark}: records rendered by a template with their prompt tokens masked (as
 * {@code peft4j finetune} encodes them), packed into full rows of {@code seq} tokens so every step has the same
 * shape. Stateless.
 */
final class InstructionRows {
    private InstructionRows() {
    }

    /** The first {@code rows} packed rows of {@code data} (repeated when the file holds fewer). */
    static List<Example> packed(Checkpoint ckpt, Path data, String template, int seq, int rows) throws Exception {
        Tokenizer tok = ckpt.tokenizer();
        Dataset d = DatasetReader.builder().setPath(data).build().readAll();
        EncodedDataset enc = ExampleEncoder.builder().setTokenizer(tok)
                .setTemplate(ChatTemplate.resolve(template == null ? "alpaca" : template, ckpt.chatTemplate(), tok))
                .optMaxSeqLen(seq).build().encodeAll(d.records().subList(0, Math.min(d.size(), rows * 8)));
        List<Example> all = enc.packedForTrainer(seq, Math.max(0, tok.padTokenId()));
        if (all.isEmpty()) {
            throw new IllegalArgumentException(data + ": no usable records");
        }
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            out.add(all.get(i % all.size()));
        }
        return out;
    }
}
