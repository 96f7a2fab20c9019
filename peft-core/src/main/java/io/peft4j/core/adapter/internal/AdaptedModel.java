package io.peft4j.core.adapter.internal;

import io.peft4j.core.adapter.PeftModel;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;

import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link CausalLM} view returned by {@link PeftModel#asCausalLM()}: forwards and training go through the
 * {@link PeftModel} (so input-changing adapters such as soft prompts apply), everything else is the base model's.
 * Owns nothing: {@link #close()} does nothing.
 */
public final class AdaptedModel implements CausalLM {
    private final PeftModel peft;

    public AdaptedModel(PeftModel peft) {
        this.peft = peft;
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return peft.forward(inputIds, attentionMask, cache);
    }

    @Override
    public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        return peft.forwardLast(inputIds, attentionMask, cache);
    }

    @Override
    public NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        return peft.forwardEmbeddings(inputEmbeddings, attentionMask, cache);
    }

    @Override
    public float backward(NDArray inputIds, NDArray attentionMask, Function<NDArray, NDArray> loss,
                          boolean checkpointActivations, long rngSeed) {
        return peft.backward(inputIds, attentionMask, loss, checkpointActivations, rngSeed);
    }

    @Override
    public ModelConfig config() {
        return peft.base().config();
    }

    @Override
    public NDManager manager() {
        return peft.base().manager();
    }

    @Override
    public NDArray embed(NDArray inputIds) {
        return peft.base().embed(inputIds);
    }

    @Override
    public Map<String, LinearLayer> linearLayers() {
        return peft.base().linearLayers();
    }

    /** Refused: adapters change through the {@link PeftModel}, not through this view. */
    @Override
    public LinearLayer replaceLinear(String modulePath, LinearLayer layer) {
        throw new IllegalStateException("PeftModel.asCausalLM() is a view; change layers on the base model");
    }

    @Override
    public Map<String, NDArray> otherWeights() {
        return peft.base().otherWeights();
    }

    @Override
    public Supplier<NDArray> weightOverride(String name) {
        return peft.base().weightOverride(name);
    }

    @Override
    public KvCache newKvCache(int batchSize) {
        return peft.base().newKvCache(batchSize);
    }

    /** The view owns nothing: the base model and the adapters stay open. */
    @Override
    public void close() {
    }
}
