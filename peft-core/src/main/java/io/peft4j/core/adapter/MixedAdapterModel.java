package io.peft4j.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.adapter.internal.MixedVirtualTokens;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.KvCache;
import io.peft4j.core.model.VirtualTokens;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The base model seen through a fixed per-row choice of adapters ({@link AdapterRouting}): every forward runs
 * the batch once over the shared base while each adapter's layers add their delta to their own rows only, so a
 * server batches requests for different tasks. A {@link io.peft4j.core.generate.Generator} over it generates
 * with per-row adapters. While open it holds its registry's read lock, so the adapters it names cannot be
 * unloaded or changed under it (changes wait until it closes). Confined to the thread that opened it: use and
 * close it there, and do not change adapters from that thread while it is open.
 *
 * <pre>{@code
 * try (MixedAdapterModel m = peft.withAdapters(List.of("sql", "__base__", "chat"))) {
 *     GenerationResult r = new Generator(m, tokenizer).generate(prompts, config, TokenListener.NONE);
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class MixedAdapterModel implements CausalLM {
    private final AdapterRegistry registry;
    private final CausalLM base;
    private final AdapterRouting routing;
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    /** Called by the registry with its read lock already held by this thread. */
    MixedAdapterModel(AdapterRegistry registry, AdapterRouting routing) {
        this.registry = registry;
        this.base = registry.model();
        this.routing = routing;
    }

    /** The per-row adapter choice of this view. */
    public AdapterRouting routing() {
        return routing;
    }

    /**
     * Logits {@code [B, T, vocab]} with each row's adapter. At the start of a sequence (no or an empty cache) rows
     * whose adapter is a soft prompt get its virtual tokens first ({@link VirtualTokens}, left-padded to the longest
     * in the batch and masked), so each row's logits are those it has alone; later steps find them in the cache.
     */
    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        check(inputIds);
        try (AdapterRouting.Scope s = routing.enter()) {
            List<VirtualTokens> virtual = virtualTokens(inputIds, cache);
            return virtual == null ? base.forward(inputIds, attentionMask, cache)
                    : MixedVirtualTokens.forward(base, base.embed(inputIds), attentionMask, cache, virtual);
        }
    }

    @Override
    public NDArray forwardLast(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        check(inputIds);
        try (AdapterRouting.Scope s = routing.enter()) {
            List<VirtualTokens> virtual = virtualTokens(inputIds, cache);
            return virtual == null ? base.forwardLast(inputIds, attentionMask, cache)
                    : MixedVirtualTokens.forward(base, base.embed(inputIds), attentionMask, cache, virtual)
                    .get(new NDIndex(":, -1, :"));
        }
    }

    @Override
    public NDArray forwardEmbeddings(NDArray inputEmbeddings, NDArray attentionMask, KvCache cache) {
        check(inputEmbeddings);
        try (AdapterRouting.Scope s = routing.enter()) {
            List<VirtualTokens> virtual = virtualTokens(inputEmbeddings, cache);
            return virtual == null ? base.forwardEmbeddings(inputEmbeddings, attentionMask, cache)
                    : MixedVirtualTokens.forward(base, inputEmbeddings, attentionMask, cache, virtual);
        }
    }

    /** Each row's virtual tokens at the start of a sequence, or null when no row has any (or the cache has). */
    private List<VirtualTokens> virtualTokens(NDArray input, KvCache cache) {
        if (cache != null && cache.length() > 0) {
            return null;
        }
        int rows = Math.toIntExact(input.getShape().get(0));
        Map<String, VirtualTokens> byAdapter = new HashMap<>();
        List<VirtualTokens> perRow = new ArrayList<>(rows);
        boolean any = false;
        for (int r = 0; r < rows; r++) {
            String name = routing.rows() < 0 ? routing.single() : routing.rowAdapters().get(r);
            VirtualTokens v = null;
            if (!AdapterRouting.BASE.equals(name)) {
                v = byAdapter.computeIfAbsent(name, n -> registry.get(n).virtualTokens(base, input.getManager(), false));
            }
            any |= v != null;
            perRow.add(v);
        }
        return any ? perRow : null;
    }

    private void check(NDArray input) {
        if (closed) {
            throw new IllegalStateException("this MixedAdapterModel is closed");
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a MixedAdapterModel is confined to the thread that opened it ("
                    + owner.getName() + ")");
        }
        long rows = input.getShape().get(0);
        if (routing.rows() >= 0 && rows != routing.rows()) {
            throw new IllegalArgumentException("batch has " + rows + " rows but " + routing.rows()
                    + " adapter names were given: " + routing.rowAdapters());
        }
    }

    @Override
    public NDArray embed(NDArray inputIds) {
        return base.embed(inputIds);
    }

    @Override
    public ModelConfig config() {
        return base.config();
    }

    @Override
    public NDManager manager() {
        return base.manager();
    }

    @Override
    public Map<String, LinearLayer> linearLayers() {
        return base.linearLayers();
    }

    /** Refused: adapters change through the registry, not through this view. */
    @Override
    public LinearLayer replaceLinear(String modulePath, LinearLayer layer) {
        throw new IllegalStateException("a MixedAdapterModel is read-only; change layers on the base model");
    }

    @Override
    public KvCache newKvCache(int batchSize) {
        return base.newKvCache(batchSize);
    }

    /** Releases the registry's read lock (the base model stays open). Call it on the opening thread. */
    @Override
    public void close() {
        if (!closed) {
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("close a MixedAdapterModel on the thread that opened it ("
                        + owner.getName() + ")");
            }
            closed = true;
            registry.releaseRead();
        }
    }
}
