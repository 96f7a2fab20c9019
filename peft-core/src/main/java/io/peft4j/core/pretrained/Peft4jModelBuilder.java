package io.peft4j.core.pretrained;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.ModelFamilies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Setup of a {@link Peft4jModel} in DJL's style: {@code setX} for what is required (the path, or an already open
 * checkpoint), {@code optX} for the rest; {@link #build()} checks the combination and loads. Not thread-safe;
 * a builder may build several models.
 *
 * <pre>{@code
 * Peft4jModel model = Peft4jModel.builder().setPath(Path.of("SmolLM2-hf")).optQuantization("nf4")
 *         .optAdapter(Path.of("my-adapter")).build();
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Peft4jModelBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(Peft4jModelBuilder.class);

    private Path path;
    private Checkpoint checkpoint;
    private String quantization = "none";
    private LinearLayerFactory factory;
    private Path adapter;

    Peft4jModelBuilder() {
    }

    /** A {@code .gguf} file or a Hugging Face folder (dense, or 4-bit with the quantization module); opened and owned. */
    public Peft4jModelBuilder setPath(Path path) {
        this.path = path;
        return this;
    }

    /** An already open checkpoint instead of {@link #setPath}; the model reads it but the caller closes it. */
    public Peft4jModelBuilder setCheckpoint(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
        return this;
    }

    /**
     * Quantize the projections while loading: {@code none} (default), or a name a
     * {@link io.peft4j.core.model.QuantizationBackend} understands (the quantization module: {@code nf4} with double
     * quantization, {@code fp4}, {@code int8}). A 4-bit folder loads as stored whatever is asked here, and asking
     * for another type than stored is refused.
     */
    public Peft4jModelBuilder optQuantization(String quantization) {
        this.quantization = quantization;
        return this;
    }

    /**
     * Advanced: the factory that builds every projection, instead of one chosen by {@link #optQuantization}
     * (e.g. a quantizing factory whose counters the caller reads). Not combinable with a quantization name.
     */
    public Peft4jModelBuilder optLinearLayerFactory(LinearLayerFactory factory) {
        this.factory = factory;
        return this;
    }

    /** A PEFT adapter folder loaded as {@value PeftModel#DEFAULT} and activated. */
    public Peft4jModelBuilder optAdapter(Path adapter) {
        this.adapter = adapter;
        return this;
    }

    /**
     * Opens the checkpoint (unless given), loads the model through its family with the chosen projections and the
     * adapter if any. On failure nothing stays open (a given checkpoint stays open: it is the caller's).
     *
     * @throws IllegalArgumentException for a missing path, both a path and a checkpoint, both a quantization name and
     *                                  a factory, or an unknown quantization name
     * @throws NoSuchFileException      when the path does not exist
     * @throws PeftException            for an unreadable checkpoint, an unsupported model or a mismatched adapter
     */
    public Peft4jModel build() throws PeftException, NoSuchFileException {
        if ((path == null) == (checkpoint == null)) {
            throw new IllegalArgumentException("Peft4jModel needs exactly one of setPath(path) or setCheckpoint(ckpt)");
        }
        String q = quantization == null ? "none" : quantization;
        if (factory != null && !"none".equalsIgnoreCase(q)) {
            throw new IllegalArgumentException("optQuantization('" + q + "') and optLinearLayerFactory are exclusive");
        }
        long start = System.nanoTime();
        boolean owns = checkpoint == null;
        Checkpoint ckpt = owns ? Backends.open(path) : checkpoint;
        NDManager manager = null;
        CausalLM model = null;
        Peft4jModel result = null;
        try {
            LinearLayerFactory f = factory != null ? factory : Backends.linearFactory(ckpt, q);
            manager = Peft4j.newManager();
            model = ModelFamilies.load(ckpt.config(), ckpt.tensors(), f, manager);
            result = new Peft4jModel(ckpt, owns, manager, model);
            if (adapter != null) {
                result.loadAdapter(adapter, PeftModel.DEFAULT);
            }
            LOG.info("loaded {} ({}, quantization {}) in {} ms", ckpt.path(), ckpt.format(), q,
                    (System.nanoTime() - start) / 1_000_000);
            return result;
        } catch (PeftException | RuntimeException e) {
            if (result != null) {
                result.close();
            } else {
                closeQuietly(model, manager, owns ? ckpt : null);
            }
            throw e;
        }
    }

    private static void closeQuietly(CausalLM model, NDManager manager, Checkpoint ckpt) {
        if (model != null) {
            model.close();
        }
        if (manager != null) {
            manager.close();
        }
        if (ckpt != null) {
            ckpt.close();
        }
    }
}
