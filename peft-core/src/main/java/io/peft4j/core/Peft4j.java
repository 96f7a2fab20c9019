package io.peft4j.core;

import ai.djl.ndarray.NDManager;

/**
 * Entry point to the tensor runtime. Every {@link NDManager} peft4j creates comes from here, so the
 * offline switch ({@code ai.djl.offline=true}) is set before DJL's PyTorch engine first loads: the
 * bundled CPU natives are used and nothing is downloaded at run time.
 *
 * <pre>{@code
 * try (NDManager manager = Peft4j.newManager()) {
 *     NDArray x = manager.ones(new Shape(2, 3));
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Peft4j {
    static {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("ai.djl.pytorch.graph_optimizer") == null) {
            System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
        }
    }

    private Peft4j() {
    }

    /** A new root-level manager on the CPU; close it to free every array it owns. */
    public static NDManager newManager() {
        return NDManager.newBaseManager();
    }
}
