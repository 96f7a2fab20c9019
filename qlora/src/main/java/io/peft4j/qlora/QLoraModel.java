package io.peft4j.qlora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.PeftException;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantizingLinearFactory;

import java.nio.file.Path;
import java.util.List;

/**
 * The QLoRA recipe (arXiv 2305.14314): the base is quantized to NF4 with double quantization tensor by tensor while
 * it loads (the fp32 model never sits in memory whole), LoRA adapters go on every linear layer but {@code lm_head},
 * only the adapters train, and {@link #saveAdapter} writes PEFT's {@code adapter_config.json} +
 * {@code adapter_model.safetensors}. Not thread-safe while training; close it to free the model.
 *
 * <pre>{@code
 * try (QLoraModel qlora = QLoraModel.builder().setCheckpoint(ckpt).build()) {
 *     qlora.train(examples, List.of(), TrainerConfig.builder().optMaxSteps(30).build());
 *     qlora.saveAdapter(Path.of("my-adapter"));
 * }
 * }</pre>
 */
public final class QLoraModel implements AutoCloseable {
    /** QLoRA's defaults scaled to small models: r 16, alpha 32, dropout 0.05, every linear layer. */
    public static final LoraConfig DEFAULT_LORA = LoraConfig.builder().optR(16).optLoraAlpha(32)
            .optLoraDropout(0.05).optTargetModules(TargetModules.ALL_LINEAR).build();

    private final NDManager manager;
    private final CausalLM base;
    private final PeftModel peft;
    private final QuantizingLinearFactory factory;

    private QLoraModel(NDManager manager, CausalLM base, PeftModel peft, QuantizingLinearFactory factory) {
        this.manager = manager;
        this.base = base;
        this.peft = peft;
        this.factory = factory;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The adapted model: generate with {@code peft().base()}, hot-swap or disable adapters here. */
    public PeftModel peft() {
        return peft;
    }

    /** Trains the adapter; the base stays frozen. */
    public TrainingResult train(List<Example> train, List<Example> eval, TrainerConfig config) throws PeftException {
        try (Trainer trainer = new Trainer(peft, config)) {
            return trainer.train(train, eval);
        }
    }

    /** Writes the adapter in PEFT's layout into {@code dir} (atomically). */
    public void saveAdapter(Path dir) throws PeftException {
        peft.save(dir);
    }

    /** Where the bytes go: 4-bit base, fp32 rest, adapter and optimizer state. */
    public MemoryReport memory() {
        // parameterCount() counts a tied lm_head once, as the model holds it once
        long fullPrecision = base.config().parameterCount() - factory.quantizedParameters();
        return new MemoryReport(factory.quantizedParameters(), factory.quantizedBytes(), fullPrecision,
                peft.trainableParameterCount());
    }

    @Override
    public void close() {
        peft.close();
        base.close();
        manager.close();
    }

    /** Setup of a {@link QLoraModel}: the checkpoint is required, quantization and LoRA have QLoRA defaults. */
    public static final class Builder {
        private Checkpoint checkpoint;
        private QuantConfig quant = QuantConfig.nf4DoubleQuant();
        private LoraConfig lora = DEFAULT_LORA;
        private long seed = 42;

        private Builder() {
        }

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
        public QLoraModel build() throws PeftException {
            if (checkpoint == null || quant == null || lora == null) {
                throw new IllegalArgumentException("checkpoint, quant config and LoRA config are required");
            }
            QuantizingLinearFactory factory = new QuantizingLinearFactory(quant);
            NDManager manager = Peft4j.newManager();
            try {
                CausalLM base = ModelFamilies.load(checkpoint.config(), checkpoint.tensors(), factory, manager);
                PeftModel peft = PeftModel.wrap(base);
                peft.addAdapter(PeftModel.DEFAULT, lora, seed);
                return new QLoraModel(manager, base, peft, factory);
            } catch (PeftException | RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }
}
