package io.peft4j.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.peft4j.core.LinearLayer;

/**
 * A {@link LinearLayer} that hands every call to another one, for test layers that watch or hide a projection:
 * override only what the test observes. {@link #trainableParameters()} keeps the interface's default (none).
 *
 * <pre>{@code
 * LinearLayer counting = new ForwardingLinear(dense) {
 *     public NDArray forward(NDArray x) { calls++; return super.forward(x); }
 * };
 * }</pre>
 */
public class ForwardingLinear implements LinearLayer {
    private final LinearLayer inner;

    public ForwardingLinear(LinearLayer inner) {
        this.inner = inner;
    }

    @Override
    public NDArray forward(NDArray x) {
        return inner.forward(x);
    }

    @Override
    public long inFeatures() {
        return inner.inFeatures();
    }

    @Override
    public long outFeatures() {
        return inner.outFeatures();
    }

    @Override
    public NDArray denseWeight(NDManager manager) {
        return inner.denseWeight(manager);
    }

    @Override
    public NDArray bias() {
        return inner.bias();
    }

    @Override
    public long storedBytes() {
        return inner.storedBytes();
    }

    @Override
    public void close() {
        inner.close();
    }
}
