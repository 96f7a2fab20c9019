package io.peft4j.bench;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.llama.LlamaModel;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The fp32 base model a model-level bench measures, loaded from a {@code .gguf} file or a Hugging Face folder;
 * closing frees the model, its manager and the checkpoint, in that order. Not thread-safe.
 *
 * <pre>{@code
 * try (BenchModel base = BenchModel.open(Path.of("model.gguf"))) {
 *     ForwardBenchmark.Result r = ForwardBenchmark.run(base.model(), shapes, 3);
 * }
 * }</pre>
 */
final class BenchModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final LlamaModel model;

    private BenchModel(Checkpoint checkpoint, NDManager manager, LlamaModel model) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.model = model;
    }

    /** Opens {@code path} and loads its model in fp32; on failure nothing stays open. */
    static BenchModel open(Path path) throws PeftException, NoSuchFileException {
        Checkpoint ckpt = Checkpoints.open(path);
        NDManager manager = null;
        try {
            manager = Peft4j.newManager();
            return new BenchModel(ckpt, manager, LlamaModel.load(ckpt.config(), ckpt.tensors(), manager));
        } catch (PeftException | RuntimeException e) {
            if (manager != null) {
                manager.close();
            }
            ckpt.close();
            throw e;
        }
    }

    LlamaModel model() {
        return model;
    }

    /** The opened checkpoint (tokenizer, chat template). */
    Checkpoint checkpoint() {
        return checkpoint;
    }

    @Override
    public void close() {
        model.close();
        manager.close();
        checkpoint.close();
    }
}
