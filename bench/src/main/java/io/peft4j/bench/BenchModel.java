package io.peft4j.bench;

import io.peft4j.core.PeftException;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.pretrained.Peft4jModel;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The fp32 base model a model-level bench measures, loaded through {@link Peft4jModel} from a {@code .gguf} file or
 * a Hugging Face folder; closing frees the model, its native memory and the checkpoint. Not thread-safe.
 *
 * <pre>{@code
 * try (BenchModel base = BenchModel.open(Path.of("model.gguf"))) {
 *     ForwardBenchmark.Result r = ForwardBenchmark.run(base.model(), shapes, 3);
 * }
 * }</pre>
 */
final class BenchModel implements AutoCloseable {
    private final Peft4jModel loaded;

    private BenchModel(Peft4jModel loaded) {
        this.loaded = loaded;
    }

    /** Opens {@code path} and loads its model in fp32; on failure nothing stays open. */
    static BenchModel open(Path path) throws PeftException, NoSuchFileException {
        return new BenchModel(Peft4jModel.builder().setPath(path).build());
    }

    /** The bare base model (benches attach their own adapters). */
    CausalLM model() {
        return loaded.base();
    }

    @Override
    public void close() {
        loaded.close();
    }
}
