package io.peft4j.core.pretrained;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.AdapterConfig;
import io.peft4j.core.adapter.MergedModelWriter;
import io.peft4j.core.adapter.MixedAdapterModel;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.generate.EvalResult;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.GenerationResult;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.generate.PerplexityEvaluator;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A base model loaded from a GGUF file or a Hugging Face folder, ready to generate, evaluate, train and take
 * adapters: the library's one way in, as {@code from_pretrained} is in transformers + PEFT. {@link #builder()}
 * opens the checkpoint, picks the model family from its config ({@link io.peft4j.core.model.ModelFamilies}),
 * optionally quantizes the projections on load, and wraps the model in a {@link PeftModel}. This object owns
 * everything it loaded (its own {@link NDManager}, the model, the adapters and, when it opened it, the
 * checkpoint): {@link #close()} frees all of it.
 *
 * <p>Quantization is named, not typed ({@code "nf4"}, {@code "fp4"}, {@code "int8"}): peft-core must not depend on
 * the {@code quantization} module, so the name goes to the {@link io.peft4j.core.model.QuantizationBackend} found
 * by {@code ServiceLoader} (the {@code quantization} jar registers one). With that jar on the class path 4-bit
 * Hugging Face folders (transformers + bitsandbytes layout) also load as stored. Keeping the entry point here
 * rather than in {@code qlora} means a user of LoRA or prompt tuning alone gets it without the quantization jar.
 *
 * <pre>{@code
 * try (Peft4jModel model = Peft4jModel.builder().setPath(Path.of("SmolLM2.gguf")).optQuantization("nf4").build()) {
 *     model.loadAdapter(Path.of("my-adapter"), "default");
 *     String answer = model.generate("The capital of France is");
 * }
 * }</pre>
 * Thread-safety: adapter changes and forwards are coordinated by the {@link PeftModel}'s registry, so
 * {@link #generateWith} may run on several threads at once while adapters are loaded or activated; training is
 * single-threaded.
 *
 * @since 0.1.0
 */
public final class Peft4jModel implements AutoCloseable {
    /** The default evaluation window in tokens (capped by the model's context length). */
    public static final int DEFAULT_EVAL_WINDOW = 1024;

    private final Checkpoint checkpoint;
    private final boolean ownsCheckpoint;
    private final NDManager manager;
    private final CausalLM base;
    private final PeftModel peft;

    Peft4jModel(Checkpoint checkpoint, boolean ownsCheckpoint, NDManager manager, CausalLM base) {
        this.checkpoint = checkpoint;
        this.ownsCheckpoint = ownsCheckpoint;
        this.manager = manager;
        this.base = base;
        this.peft = PeftModel.wrap(base);
    }

    /** A builder: {@link Peft4jModelBuilder#setPath} (or {@code setCheckpoint}) is required. */
    public static Peft4jModelBuilder builder() {
        return new Peft4jModelBuilder();
    }

    /**
     * Opens the checkpoint at {@code path} the way {@link #builder()} does (4-bit folders under their logical view
     * when the quantization module is present) without loading the model, e.g. to inspect it. The caller closes it.
     */
    public static Checkpoint openCheckpoint(Path path) throws PeftException, NoSuchFileException {
        return Backends.open(path);
    }

    /** The new text for {@code prompt} with the active adapters, greedy, at most 64 new tokens. */
    public String generate(String prompt) {
        return generate(prompt, GenerationConfig.builder().build());
    }

    /** The new text for {@code prompt} with the active adapters. */
    public String generate(String prompt, GenerationConfig config) {
        return new Generator(peft, checkpoint.tokenizer()).generate(prompt, config);
    }

    /** Generates for a batch of prompts with the active adapters; {@code listener} sees every token. */
    public GenerationResult generate(List<String> prompts, GenerationConfig config, TokenListener listener) {
        return new Generator(peft, checkpoint.tokenizer()).generate(prompts, config, listener);
    }

    /**
     * The new text for {@code prompt} with adapter {@code adapter} whatever is active ({@code "__base__"} for none):
     * safe to call from several threads at once, each with its own adapter (a hot-swap per request). Adapter
     * changes wait until the calls in flight finish.
     */
    public String generateWith(String adapter, String prompt, GenerationConfig config) {
        try (MixedAdapterModel view = peft.withAdapter(adapter)) {
            return new Generator(view, checkpoint.tokenizer()).generate(prompt, config);
        }
    }

    /** Token-weighted loss and perplexity of {@code texts} with the active adapters (see {@link #evaluate(List, int, int)}). */
    public EvalResult evaluate(List<String> texts) {
        int max = config().maxPositions();
        int window = max > 0 ? Math.min(DEFAULT_EVAL_WINDOW, max) : DEFAULT_EVAL_WINDOW;
        return evaluate(texts, window, Math.max(1, window / 2));
    }

    /** Loss and perplexity over {@code texts} in windows of {@code window} tokens moved by {@code stride}. */
    public EvalResult evaluate(List<String> texts, int window, int stride) {
        return new PerplexityEvaluator(peft, checkpoint.tokenizer()).evaluateTexts(texts, window, stride);
    }

    /** Loads a PEFT adapter folder as {@code name} and makes it the only active adapter. */
    public Adapter loadAdapter(Path dir, String name) throws PeftException {
        return peft.loadAdapter(dir, name);
    }

    /** Attaches a new trainable adapter (e.g. a {@code LoraConfig}) as {@code name}, initialised from {@code seed}. */
    public Adapter addAdapter(String name, AdapterConfig config, long seed) {
        return peft.addAdapter(name, config, seed);
    }

    /** Makes exactly {@code names} active (a hot-swap; forwards in flight finish first). */
    public void setActiveAdapters(String... names) {
        peft.setActiveAdapters(names);
    }

    /** Trains the active adapters on {@code train} (evaluating on {@code eval}, may be empty); the base stays frozen. */
    public TrainingResult train(List<Example> train, List<Example> eval, TrainerConfig config) throws PeftException {
        try (Trainer trainer = new Trainer(peft, config)) {
            return trainer.train(train, eval);
        }
    }

    /** Saves every adapter in PEFT's layout under {@code dir} (see {@link PeftModel#save(Path)}). */
    public void saveAdapters(Path dir) throws PeftException {
        peft.save(dir);
    }

    /**
     * Merges the active adapters into the weights, removes every adapter and writes the result as a dense Hugging
     * Face folder at {@code dir} (loadable by transformers, and by {@link #builder()}). This model then generates
     * with the merged weights and holds no adapters.
     */
    public void mergeAndExport(Path dir) throws IOException {
        String fingerprint = peft.fingerprint();
        CausalLM merged = peft.mergeAndUnload();
        MergedModelWriter.write(merged, checkpoint.tokenizer(), dir, fingerprint);
    }

    /** The adapters over the model; a {@link CausalLM} itself (forwards apply the active adapters). */
    public PeftModel peft() {
        return peft;
    }

    /** The model with its active adapters, for code that takes a {@link CausalLM}; closing the view does nothing. */
    public CausalLM asCausalLM() {
        return peft.asCausalLM();
    }

    /** The bare model (its projections carry adapter layers while adapters are attached). */
    public CausalLM base() {
        return base;
    }

    public ModelConfig config() {
        return base.config();
    }

    /** The checkpoint's tokenizer (owned by this model). */
    public Tokenizer tokenizer() {
        return checkpoint.tokenizer();
    }

    /** The checkpoint's Jinja chat template, when it has one. */
    public Optional<String> chatTemplate() {
        return checkpoint.chatTemplate();
    }

    /** The opened checkpoint (path, format, weights); closed with this model when this model opened it. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** Frees the adapters, the model and its native memory, then the checkpoint if this model opened it. */
    @Override
    public void close() {
        try {
            peft.close();
            base.close();
        } finally {
            manager.close();
            if (ownsCheckpoint) {
                checkpoint.close();
            }
        }
    }
}
