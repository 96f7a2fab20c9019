package io.peft4j.quant.internal;

import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.checkpoint.TensorSource;
import io.peft4j.quant.Absmax;
import io.peft4j.quant.QuantConfig;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one weight stored in the {@link StoredLayout} back into a {@link QuantizedTensor}, exactly as stored (no
 * re-quantization). Every inconsistency (missing companion, wrong dtype or size, a codebook other than
 * bitsandbytes', a malformed state) is a {@link CheckpointFormatException} naming the file and tensor.
 */
public final class StoredReader {
    private StoredReader() {
    }

    /** Weight name → its state tensor name, for every quantized weight in {@code src}. */
    public static Map<String, String> quantizedWeights(TensorSource src) {
        Map<String, String> out = new TreeMap<>();
        for (String name : src.names()) {
            int at = name.lastIndexOf(StoredLayout.STATE);
            if (at > 0 && StoredLayout.typeOfStateKey(name.substring(at + StoredLayout.STATE.length())) != null) {
                out.put(name.substring(0, at), name);
            }
        }
        return out;
    }

    /** The parsed state of {@code stateName} (the {@code W.quant_state.*} tensor). */
    public static QuantStateJson.State state(TensorSource src, String stateName) throws CheckpointFormatException {
        try {
            return QuantStateJson.decode(bytes(src, stateName));
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(src.path(), stateName, e.getMessage());
        }
    }

    /** Reads the weight {@code weightName} whose state tensor is {@code stateName}. */
    public static QuantizedTensor read(TensorSource src, String weightName, String stateName)
            throws CheckpointFormatException {
        QuantType keyType = StoredLayout.typeOfStateKey(
                stateName.substring(stateName.lastIndexOf(StoredLayout.STATE) + StoredLayout.STATE.length()));
        QuantStateJson.State s = state(src, stateName);
        try {
            QuantType type = QuantStateJson.type(s, keyType);
            QuantConfig config = new QuantConfig(type, s.blockSize(), s.nested());
            if (s.nested() && s.nestedBlockSize() != config.nestedBlockSize()) {
                throw new IllegalArgumentException("nested_blocksize " + s.nestedBlockSize() + " is not supported ("
                        + type.bnbName() + " uses " + config.nestedBlockSize() + ")");
            }
            checkCodebook(src, weightName + StoredLayout.QUANT_MAP, type);
            byte[] data = bytes(src, weightName);
            Absmax absmax = s.nested() ? nested(src, weightName, s, config) : plain(src, weightName);
            return new QuantizedTensor(weightName, s.shape(), config, data, absmax);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(src.path(), weightName, e.getMessage());
        }
    }

    private static Absmax plain(TensorSource src, String w) throws CheckpointFormatException {
        String name = present(src, w + StoredLayout.ABSMAX);
        if ("U8".equals(src.dtype(name))) {
            throw new CheckpointFormatException(src.path(), name, "U8 absmax codes but the quant_state has no "
                    + "nested_offset/nested_blocksize (double quantization fields)");
        }
        return new Absmax.Plain(src.readFloats(name));
    }

    private static Absmax nested(TensorSource src, String w, QuantStateJson.State s, QuantConfig config)
            throws CheckpointFormatException {
        byte[] codes = bytes(src, w + StoredLayout.ABSMAX);
        float[] nestedAbsmax = src.readFloats(present(src, w + StoredLayout.NESTED_ABSMAX));
        float[] nestedCode = src.readFloats(present(src, w + StoredLayout.NESTED_QUANT_MAP));
        return new Absmax.Nested(codes, nestedAbsmax, nestedCode, config.nestedBlockSize(), s.nestedOffset());
    }

    private static void checkCodebook(TensorSource src, String name, QuantType type)
            throws CheckpointFormatException {
        float[] stored = src.readFloats(present(src, name));
        float[] ours = type.codebook();
        if (!Arrays.equals(stored, ours)) {
            throw new CheckpointFormatException(src.path(), name, "holds " + stored.length + " values that differ "
                    + "from bitsandbytes' " + type.bnbName() + " codebook; custom quant maps are not supported");
        }
    }

    /** A U8 tensor's bytes. */
    static byte[] bytes(TensorSource src, String name) throws CheckpointFormatException {
        present(src, name);
        if (!"U8".equals(src.dtype(name))) {
            throw new CheckpointFormatException(src.path(), name, "expected U8 (bitsandbytes' uint8 quant storage), "
                    + "got " + src.dtype(name));
        }
        float[] widened = src.readFloats(name);
        byte[] out = new byte[widened.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (int) widened[i];
        }
        return out;
    }

    private static String present(TensorSource src, String name) throws CheckpointFormatException {
        if (!src.contains(name)) {
            throw new CheckpointFormatException(src.path(), name, "missing: a 4-bit weight needs it beside its "
                    + "quant_state");
        }
        return name;
    }
}
