package io.peft4j.spark.internal;

import java.io.Serializable;

/**
 * The outcome of one task, one row of the job's summary.
 *
 * @param task        the task name (also the adapter folder's name)
 * @param status      {@code trained}, or {@code skipped} when a complete adapter was already there
 * @param records     training records of the task in this run's input
 * @param steps       optimizer steps of the adapter (read from its provenance when skipped)
 * @param trainLoss   final training loss, or {@code null} when skipped
 * @param evalLoss    final evaluation loss, or {@code null} without eval records (or when skipped)
 * @param seconds     wall time of the task on its executor
 * @param adapterPath absolute path of the adapter folder
 * @param executor    the Spark executor id that ran the task ({@code driver} in local mode)
 */
public record TaskResult(String task, String status, long records, Long steps, Double trainLoss, Double evalLoss,
                         double seconds, String adapterPath, String executor) implements Serializable {
    private static final long serialVersionUID = 1L;
}
