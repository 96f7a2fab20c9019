package io.peft4j.lora.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * PEFT's {@code ModulesToSaveWrapper} state for one module ({@code modules_to_save}): per adapter a trainable full
 * copy of the module's arrays ({@code weight}, and {@code bias} when the module has one), made from the base when the
 * adapter is added. The base arrays are never touched. At most one adapter's copy may be active, as in PEFT;
 * disabled or with none active, the module is the base. As a {@link Supplier} it gives the active weight copy or
 * null, which is what {@code CausalLM.overrideWeight} reads for the embedding and norms. Mutators are synchronized;
 * forwards read a volatile snapshot.
 *
 * <pre>{@code
 * ModuleCopies c = new ModuleCopies("lm_head", parent, () -> model.replaceLinear("lm_head", base));
 * c.add("default", base.denseWeight(c.manager()), null);
 * c.setActive("default", true);
 * }</pre>
 */
public final class ModuleCopies implements Supplier<NDArray> {
    private static final NDArray[] CONFLICT = new NDArray[0];

    private final String modulePath;
    private final NDManager manager;
    private final Runnable detach;
    private final Map<String, NDArray[]> copies = new LinkedHashMap<>();   // adapter -> {weight, bias?}
    private final Set<String> active = new LinkedHashSet<>();
    private volatile NDArray[] live;                                     // the active copy, CONFLICT or null
    private volatile boolean enabled = true;

    /** {@code detach} puts the base module back when the last copy is removed. */
    public ModuleCopies(String modulePath, NDManager parent, Runnable detach) {
        this.modulePath = modulePath;
        this.manager = parent.newSubManager();
        this.detach = detach;
    }

    public String modulePath() {
        return modulePath;
    }

    /** Where copies live. */
    public NDManager manager() {
        return manager;
    }

    /** Adds adapter {@code adapter}'s copy, inactive: {@code weight} (and {@code bias}, nullable) are copied. */
    public synchronized void add(String adapter, NDArray weight, NDArray bias) {
        if (copies.containsKey(adapter)) {
            throw new IllegalArgumentException(modulePath + " already has a modules_to_save copy for '" + adapter + "'");
        }
        NDArray[] c = bias == null ? new NDArray[] {copy(weight)} : new NDArray[] {copy(weight), copy(bias)};
        copies.put(adapter, c);
    }

    private NDArray copy(NDArray source) {
        NDArray c = source.duplicate();
        NDScope.unregister(c);
        c.attach(manager);
        c.setRequiresGradient(true);
        return c;
    }

    /** Live arrays of {@code adapter}'s copy: {@code weight} and, if any, {@code bias}. */
    public synchronized Map<String, NDArray> arrays(String adapter) {
        NDArray[] c = copies.get(adapter);
        if (c == null) {
            throw new IllegalArgumentException(modulePath + " has no modules_to_save copy for '" + adapter + "'");
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("weight", c[0]);
        if (c.length > 1) {
            out.put("bias", c[1]);
        }
        return out;
    }

    public synchronized void setActive(String adapter, boolean on) {
        arrays(adapter);
        if (on) {
            active.add(adapter);
        } else {
            active.remove(adapter);
        }
        live = active.isEmpty() ? null : active.size() == 1 ? copies.get(active.iterator().next()) : CONFLICT;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** The active copy {@code {weight, bias?}}, or null when disabled or none is active. */
    public NDArray[] current() {
        NDArray[] c = enabled ? live : null;
        if (c == CONFLICT) {
            throw new IllegalStateException("modules_to_save " + modulePath + ": adapters " + activeNames()
                    + " are active together; like PEFT, only one adapter's copy of a module can be active");
        }
        return c;
    }

    private synchronized List<String> activeNames() {
        return new ArrayList<>(active);
    }

    /** The active weight copy or null (the override read by the model's forward). */
    @Override
    public NDArray get() {
        NDArray[] c = current();
        return c == null ? null : c[0];
    }

    /** Frees {@code adapter}'s copy; after the last one the base module is put back and everything is freed. */
    public synchronized void remove(String adapter) {
        setActive(adapter, false);
        for (NDArray a : copies.remove(adapter)) {
            a.close();
        }
        if (copies.isEmpty()) {
            detach.run();
            manager.close();
        }
    }

    /** Bytes held by the copies. */
    public synchronized long storedBytes() {
        long n = 0;
        for (NDArray[] c : copies.values()) {
            for (NDArray a : c) {
                n += 4 * a.size();
            }
        }
        return n;
    }
}
