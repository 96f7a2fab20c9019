package io.peft4j.qlora;

import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantizingLinearFactory;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The QLoRA recipe (arXiv 2305.14314): the base is quantized to NF4 with double quantization tensor by tensor while
 * it loads (the fp32 model never sits in memory whole), LoRA adapters go on every linear layer but {@code lm_head},
 * only the adapters train, and {@link #saveAdapter} writes PEFT's {@code adapter_config.json} +
 * {@code adapter_model.safetensors}. Not thread-safe while training; close it to free the model.
 *
 * <pre>{@code
 * try (QLoraModel qlora = QLoraModel.builder().setPath(Path.of("SmolLM2.gguf")).build()) {
 *     qlora.train(examples, List.of(), TrainerConfig.builder().optMaxSteps(30).build());
 *     qlora.saveAdapter(Path.of("my-adapter"));
 * }
 * }</pre>
 * Loading goes through {@link Peft4jModel} (see {@link #model()}) with this recipe's quantizing factory, whose
 * counters feed {@link #memory()}. The same recipe in a few lines of the entry point:
 * {@code Peft4jModel.builder().setPath(p).optQuantization("nf4").build().addAdapter("default", DEFAULT_LORA, 42)}.
 *
 * @since 0.1.0
 */
public final class QLoraModel implements AutoCloseable {
    /** QLoRA's defaults scaled to small models: r 16, alpha 32, dropout 0.05, every linear layer. */
    public static final LoraConfig DEFAULT_LORA = LoraConfig.builder().optR(16).optLoraAlpha(32)
            .optLoraDropout(0.05).optTargetModules(TargetModules.ALL_LINEAR).build();

    private final Peft4jModel model;
    private final QuantizingLinearFactory factory;

    private QLoraModel(Peft4jModel model, QuantizingLinearFactory factory) {
        this.model = model;
        this.factory = factory;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The loaded model: generate, evaluate, hot-swap adapters. */
    public Peft4jModel model() {
        return model;
    }

    /** The adapted model (a {@code CausalLM}): disable adapters or read trainable parameters here. */
    public PeftModel peft() {
        return model.peft();
    }

    /** Trains the adapter; the base stays frozen. */
    public TrainingResult train(List<Example> train, List<Example> eval, TrainerConfig config) throws PeftException {
        try (Trainer trainer = new Trainer(model.peft(), config)) {
            return trainer.train(train, eval);
        }
    }

    /** Writes the adapter in PEFT's layout into {@code dir} (atomically). */
    public void saveAdapter(Path dir) throws PeftException {
        model.saveAdapters(dir);
    }

    /** Where the bytes go: 4-bit base, fp32 rest, adapter and optimizer state. */
    public MemoryReport memory() {
        // parameterCount() counts a tied lm_head once, as the model holds it once
        long fullPrecision = model.config().parameterCount() - factory.quantizedParameters();
        return new MemoryReport(factory.quantizedParameters(), factory.quantizedBytes(), fullPrecision,
                model.peft().trainableParameterCount());
    }

    @Override
    public void close() {
        model.close();
    }

    /** Setup of a {@link QLoraModel}: a path or checkpoint is required, quantization and LoRA have QLoRA defaults. */
    public static final class Builder {
        private Path path;
        private Checkpoint checkpoint;
        private QuantConfig quant = QuantConfig.nf4DoubleQuant();
        private LoraConfig lora = DEFAULT_LORA;
        private long seed = 42;

        private Builder() {
        }

        /** A {@code .gguf} file or dense Hugging Face folder, opened and closed by the model. */
        public Builder setPath(Path path) {
            this.path = path;
            return this;
        }

        /** An open checkpoint instead of {@link #setPath} (the caller closes it). */
        public Builder setCheckpoint(Checkpoint checkpoint) {
            this.checkpoint = checkpoint;
            return this;
        }

        /** Default NF4, double quantization, block 64. */
        public Builder optQuantConfig(QuantConfig quant) {
            this.quant = quant;
            return this;
        }

        /** Default {@link #DEFAULT_LORA}. */
        public Builder optLoraConfig(LoraConfig lora) {
            this.lora = lora;
            return this;
        }

        /** Seed of the adapter initialisation (default 42). */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Loads and quantizes the base, then attaches the adapter {@code default}. */
        public QLoraModel build() throws PeftException, NoSuchFileException {
            if ((checkpoint == null) == (path == null) || quant == null || lora == null) {
                throw new IllegalArgumentException("one of path or checkpoint, a quant config and a LoRA config are "
                        + "required");
            }
            QuantizingLinearFactory factory = new QuantizingLinearFactory(quant);
            Peft4jModel model = (path != null ? Peft4jModel.builder().setPath(path)
                    : Peft4jModel.builder().setCheckpoint(checkpoint)).optLinearLayerFactory(factory).build();
            try {
                model.addAdapter(PeftModel.DEFAULT, lora, seed);
                return new QLoraModel(model, factory);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }
}
