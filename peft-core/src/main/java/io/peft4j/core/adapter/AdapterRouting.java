package io.peft4j.core.adapter;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which adapter each row of the running forward uses: PEFT's {@code adapter_names=[...]}, with
 * {@value AdapterRegistry#BASE} meaning no adapter. A {@link MixedAdapterModel} makes it current on its thread for
 * the length of one forward; adapter layers that support mixed batches (see {@link Adapter#supportsMixedBatch()})
 * read {@link #current()} and add each adapter's delta to its rows only, ignoring which adapters are active.
 * Immutable; the current routing is per thread, so concurrent forwards on one model can route differently.
 *
 * <pre>{@code
 * AdapterRouting r = AdapterRouting.current();          // inside a layer's forward; null outside mixed batches
 * if (r != null && r.single() == null) {
 *     r.groups().forEach((adapter, rows) -> ...);        // rows: ascending row indices using that adapter
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class AdapterRouting {
    /** PEFT's row name for "no adapter". */
    public static final String BASE = AdapterRegistry.BASE;
    private static final ThreadLocal<AdapterRouting> CURRENT = new ThreadLocal<>();

    private final List<String> rowAdapters;          // one per row, or a single name for every row
    private final boolean everyRow;
    private final Map<String, long[]> groups;        // adapter -> ascending rows, in order of first appearance

    private AdapterRouting(List<String> rowAdapters, boolean everyRow) {
        if (rowAdapters.isEmpty()) {
            throw new IllegalArgumentException("adapter names: need one name per row, got none");
        }
        for (int i = 0; i < rowAdapters.size(); i++) {
            if (rowAdapters.get(i) == null || rowAdapters.get(i).isBlank()) {
                throw new IllegalArgumentException("adapter names: row " + i + " has no adapter name (use '"
                        + BASE + "' for the base model)");
            }
        }
        this.rowAdapters = List.copyOf(rowAdapters);
        this.everyRow = everyRow;
        Map<String, long[]> g = new LinkedHashMap<>();
        for (int i = 0; i < rowAdapters.size(); i++) {
            long[] rows = g.getOrDefault(rowAdapters.get(i), new long[0]);
            long[] grown = Arrays.copyOf(rows, rows.length + 1);
            grown[rows.length] = i;
            g.put(rowAdapters.get(i), grown);
        }
        this.groups = Collections.unmodifiableMap(g);
    }

    /** Row {@code i} of the batch uses adapter {@code rowAdapters.get(i)} (or {@value #BASE}). */
    public static AdapterRouting perRow(List<String> rowAdapters) {
        return new AdapterRouting(rowAdapters, false);
    }

    /** Every row of any batch uses {@code adapter} (or {@value #BASE}). */
    public static AdapterRouting everyRow(String adapter) {
        return new AdapterRouting(List.of(adapter), true);
    }

    /** The routing of the forward running on this thread, or {@code null} outside a mixed-adapter forward. */
    public static AdapterRouting current() {
        return CURRENT.get();
    }

    /** The one adapter every row uses (layers then need no row gathering), or {@code null} for a mixed batch. */
    public String single() {
        return groups.size() == 1 ? rowAdapters.get(0) : null;
    }

    /** Batch rows this routing describes, or -1 when it applies to every row of any batch. */
    public int rows() {
        return everyRow ? -1 : rowAdapters.size();
    }

    /** Adapter name to the ascending row indices using it, in order of first appearance. Arrays must not change. */
    public Map<String, long[]> groups() {
        return groups;
    }

    /** The distinct names used (adapters and possibly {@value #BASE}). */
    public Set<String> names() {
        return groups.keySet();
    }

    /** Per-row names as given. */
    public List<String> rowAdapters() {
        return rowAdapters;
    }

    /** Makes this routing current on this thread until the handle closes (then the previous one is back). */
    Scope enter() {
        AdapterRouting previous = CURRENT.get();
        CURRENT.set(this);
        return () -> {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        };
    }

    /** Ends {@link #enter()}; throws nothing. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    @Override
    public String toString() {
        return everyRow ? "every row: " + rowAdapters.get(0) : "rows: " + rowAdapters;
    }
}
