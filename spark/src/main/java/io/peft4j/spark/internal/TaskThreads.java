package io.peft4j.spark.internal;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Prepares a Spark task thread for peft4j. PyTorch's grad mode is thread-local and on by default; DJL turns it off
 * only on the thread that starts the engine, and peft4j's {@code Trainer} (its in-place AdamW update of leaf
 * parameters) and inference assume it is off, as it is on a command's main thread. Spark runs each task on a
 * pooled thread of its own, so every task turns it off first (gradients are still recorded inside a
 * {@code GradientCollector}, which turns it on for its lifetime).
 */
final class TaskThreads {
    private TaskThreads() {
    }

    /** Starts the engine if needed and turns grad mode off on the calling thread. */
    static void prepare() {
        Engine.getInstance();
        JniUtils.setGradMode(false);
    }
}
