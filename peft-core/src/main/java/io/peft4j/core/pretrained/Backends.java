package io.peft4j.core.pretrained;

import io.peft4j.core.PeftException;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.model.DenseLinearFactory;
import io.peft4j.core.model.LinearLayerFactory;
import io.peft4j.core.model.QuantizationBackend;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * The {@link QuantizationBackend} on the class path (the first one {@code ServiceLoader} finds), or dense loading
 * when there is none. Thread-safe: looked up once.
 */
final class Backends {
    private static final QuantizationBackend BACKEND = ServiceLoader.load(QuantizationBackend.class,
            QuantizationBackend.class.getClassLoader()).findFirst().orElse(null);

    private Backends() {
    }

    static Checkpoint open(Path path) throws PeftException, NoSuchFileException {
        if (path == null) {
            throw new IllegalArgumentException("path must not be null");
        }
        return BACKEND == null ? Checkpoints.open(path) : BACKEND.open(path);
    }

    static LinearLayerFactory linearFactory(Checkpoint ckpt, String quantization) throws PeftException {
        if (BACKEND != null) {
            return BACKEND.linearFactory(ckpt, quantization);
        }
        if ("none".equals(quantization.toLowerCase(Locale.ROOT))) {
            return DenseLinearFactory.INSTANCE;
        }
        throw new IllegalArgumentException("quantization '" + quantization + "' needs the io.peft4j:quantization "
                + "module on the class path (only 'none' is available without it)");
    }
}
