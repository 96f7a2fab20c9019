package io.peft4j.spark.internal;

import scala.Tuple2;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The body of one training partition: groups its (task, record) pairs by task and trains the tasks one after
 * another, in name order, on this JVM's one base model.
 */
public final class PartitionTrainer {
    private PartitionTrainer() {
    }

    /** Trains every task of one partition; one result per task. */
    public static Iterator<TaskResult> run(TrainJob job, Iterator<Tuple2<String, TaskRecord>> records)
            throws Exception {
        Map<String, List<TaskRecord>> byTask = new TreeMap<>();
        while (records.hasNext()) {
            Tuple2<String, TaskRecord> t = records.next();
            byTask.computeIfAbsent(t._1(), k -> new ArrayList<>()).add(t._2());
        }
        List<TaskResult> out = new ArrayList<>();
        for (Map.Entry<String, List<TaskRecord>> e : byTask.entrySet()) {
            out.add(TaskTrainer.train(job, e.getKey(), e.getValue()));
        }
        return out.iterator();
    }
}
