package io.peft4j.core;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frozen split selective checkpointing relies on ({@link LinearLayer#frozenPart()}): a frozen layer is its own
 * frozen part, its kept output is the whole forward, and {@code g·W} by hand equals autograd's gradient at the input
 * of {@code sum(forward(x)·g)}, for the dense layer and for the default method (what quantized layers use, through
 * their dequantized weight).
 */
class FrozenSplitTest {
    @Test
    void frozenInputGradient_equalsAutogradsInputGradient() {
        try (NDManager m = Peft4j.newManager()) {
            Engine.getInstance().setRandomSeed(3);
            DenseLinear dense = new DenseLinear(m.randomNormal(new Shape(5, 3)), m.randomNormal(new Shape(5)));
            LinearLayer viaDefault = new LinearLayer() {     // only the seam's required methods: the defaults answer
                public NDArray forward(NDArray x) {
                    return dense.forward(x);
                }

                public long inFeatures() {
                    return 3;
                }

                public long outFeatures() {
                    return 5;
                }

                public NDArray denseWeight(NDManager manager) {
                    return dense.denseWeight(manager);
                }

                public NDArray bias() {
                    return dense.bias();
                }

                public long storedBytes() {
                    return dense.storedBytes();
                }

                public void close() {
                }
            };
            NDArray x = m.randomNormal(new Shape(2, 4, 3));
            NDArray g = m.randomNormal(new Shape(2, 4, 5));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(dense.forward(x).mul(g).sum());
            }
            NDArray expected = x.getGradient();
            for (LinearLayer layer : List.of(dense, viaDefault)) {
                assertSame(layer, layer.frozenPart());
                NDArray kept = layer.frozenPart().forward(x.stopGradient());
                assertSame(kept, layer.forwardAfterFrozen(x, kept));
                NDArray byHand = layer.frozenInputGradient(g);
                assertTrue(byHand.getShape().equals(new Shape(2, 4, 3)), byHand.getShape().toString());
                assertTrue(byHand.sub(expected).abs().max().getFloat() < 1e-5f, layer.getClass().getName());
            }
        }
    }

    @Test
    void layerWithTrainableWeight_hasNoFrozenPart() {
        try (NDManager m = Peft4j.newManager()) {
            NDArray w = m.randomNormal(new Shape(2, 2));
            LinearLayer trainable = new LinearLayer() {
                public NDArray forward(NDArray x) {
                    return x.matMul(w.transpose());
                }

                public long inFeatures() {
                    return 2;
                }

                public long outFeatures() {
                    return 2;
                }

                public NDArray denseWeight(NDManager manager) {
                    return w.duplicate();
                }

                public NDArray bias() {
                    return null;
                }

                public List<NDArray> trainableParameters() {
                    return List.of(w);
                }

                public long storedBytes() {
                    return 16;
                }

                public void close() {
                }
            };
            assertNull(trainable.frozenPart());
            NDArray x = m.ones(new Shape(1, 2));
            assertThrows(UnsupportedOperationException.class, () -> trainable.forwardAfterFrozen(x, x));
        }
    }
}
