package io.peft4j.spark.internal;

import org.apache.spark.Partitioner;

import java.util.Map;

/**
 * Sends each task's records to one partition, spreading tasks round-robin in name order (slot {@code i mod n}),
 * so {@code n} executors get task counts that differ by at most one (a hash would leave some idle).
 */
public final class TaskPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final Map<String, Integer> slots;
    private final int partitions;

    /** {@code slots}: task name to slot index (0-based); {@code partitions} at least 1. */
    public TaskPartitioner(Map<String, Integer> slots, int partitions) {
        this.slots = Map.copyOf(slots);
        this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        Integer slot = slots.get((String) key);
        if (slot == null) {
            throw new IllegalStateException("task '" + key + "' was not in the task list");
        }
        return slot % partitions;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TaskPartitioner p && p.partitions == partitions && p.slots.equals(slots);
    }

    @Override
    public int hashCode() {
        return slots.hashCode() * 31 + partitions;
    }
}
