package io.peft4j.lora.internal;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A copy-on-write cell: one immutable value published by one volatile write, read by pinning, with the resources
 * a publish makes unreachable freed only once no reader can still use them (read-copy-update with reference
 * counts).
 *
 * <p>Readers call {@link #pin()} and use {@link Pin#value()} throughout, then close the pin. Writers (serialised
 * by the caller, e.g. {@code synchronized}) read {@link #peek()}, build the next value and {@link #publish} it
 * together with a {@code retire} action that frees what the old value held and the new one does not. That action
 * runs when the old value and every value published before it have no pins left; values retire strictly in
 * publish order, because an older value may share the very arrays the newer one dropped. It runs on the thread that
 * makes that true: the publishing writer, or the reader closing the last pin.
 *
 * <p>Thread-safe. A pin is a few atomic operations; a reader never blocks on a writer and a writer never waits for
 * readers.
 *
 * <pre>{@code
 * SnapshotCell<LayerState> cell = new SnapshotCell<>(LayerState.EMPTY);
 * try (SnapshotCell.Pin<LayerState> p = cell.pin()) {
 *     use(p.value());
 * }
 * cell.publish(next, oldMergedWeight::close);
 * }</pre>
 *
 * @param <T> the immutable value type
 */
public final class SnapshotCell<T> {
    private volatile Entry<T> current;
    private final ArrayDeque<Entry<T>> retired = new ArrayDeque<>();   // guarded by itself, oldest first

    public SnapshotCell(T initial) {
        current = new Entry<>(initial);
    }

    /** The latest value, unpinned: for writers, which publish under their own lock. */
    public T peek() {
        return current.value;
    }

    /** Pins the latest value: it and everything it references stay open until the pin is closed. */
    public Pin<T> pin() {
        while (true) {
            Entry<T> e = current;
            if (e.tryAcquire()) {
                return new Pin<>(this, e);
            }
            // e was retired and freed between the read and the acquire: the next read sees the newer value
        }
    }

    /**
     * Publishes {@code next}; {@code retire} (may be {@code null}) runs once no reader can still see the previous
     * value or any older one. Callers serialise publishes.
     */
    public void publish(T next, Runnable retire) {
        synchronized (retired) {
            Entry<T> old = current;
            current = new Entry<>(next);
            old.retire = retire;
            old.retired = true;
            retired.addLast(old);
        }
        reclaim();
    }

    /** Values published but not yet freed (pinned themselves or behind a pinned older one). */
    public int pendingRetirements() {
        synchronized (retired) {
            return retired.size();
        }
    }

    private void release(Entry<T> e) {
        if (e.pins.decrementAndGet() == 0 && e.retired) {
            reclaim();
        }
    }

    private void reclaim() {
        synchronized (retired) {
            while (!retired.isEmpty() && retired.peekFirst().pins.compareAndSet(0, -1)) {
                Runnable r = retired.pollFirst().retire;
                if (r != null) {
                    r.run();
                }
            }
        }
    }

    private static final class Entry<T> {
        final T value;
        final AtomicInteger pins = new AtomicInteger();   // -1 once freed: no new pins
        volatile boolean retired;
        Runnable retire;                                  // guarded by the cell's queue lock

        Entry(T value) {
            this.value = value;
        }

        boolean tryAcquire() {
            int c;
            do {
                c = pins.get();
                if (c < 0) {
                    return false;
                }
            } while (!pins.compareAndSet(c, c + 1));
            return true;
        }
    }

    /** A reader's hold on one value; close it exactly once. */
    public static final class Pin<T> implements AutoCloseable {
        private final SnapshotCell<T> cell;
        private final Entry<T> entry;
        private boolean closed;

        private Pin(SnapshotCell<T> cell, Entry<T> entry) {
            this.cell = cell;
            this.entry = entry;
        }

        public T value() {
            return entry.value;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                cell.release(entry);
            }
        }
    }
}
