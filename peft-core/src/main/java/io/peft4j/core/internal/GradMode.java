package io.peft4j.core.internal;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's grad mode, which is per thread. A new thread starts with it on; DJL turns it off only on the thread that
 * starts the engine, and its {@code GradientCollector} restores on close whatever mode it found. So on any other
 * thread (a server's worker, a Spark task) grad mode stays on outside collectors: forwards record graphs nobody
 * reads, and the optimizer's in-place update of a leaf parameter fails ("a leaf Variable that requires grad is
 * being used in an in-place operation"). {@code Trainer} and {@code Inference} switch it off through this class.
 * DJL's API has no grad-mode call, hence the engine import, here only.
 */
public final class GradMode {
    private GradMode() {
    }

    /** Sets the calling thread's grad mode (starting the engine if needed) and returns the mode it had before. */
    public static boolean set(boolean on) {
        Engine.getInstance();
        boolean before = JniUtils.isGradMode();
        if (before != on) {
            JniUtils.setGradMode(on);
        }
        return before;
    }
}
