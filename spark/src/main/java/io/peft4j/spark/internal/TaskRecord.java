package io.peft4j.spark.internal;

import java.io.Serializable;

/**
 * One training record of a task as it travels to the executor that trains the task.
 *
 * @param seq  the record's position in the input (records train in this order, as lines of a file would)
 * @param eval whether it is held-out evaluation data ({@code split = "eval"})
 * @param json the record as one JSON object (its non-{@code task}, non-{@code split} columns)
 */
public record TaskRecord(long seq, boolean eval, String json) implements Serializable {
    private static final long serialVersionUID = 1L;
}
