package io.peft4j.quant.internal;

import io.peft4j.core.checkpoint.TensorData;
import io.peft4j.quant.Absmax;
import io.peft4j.quant.QuantType;
import io.peft4j.quant.QuantizedTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors transformers + bitsandbytes 0.50 write for one 4-bit weight {@code W} ({@code Linear4bit
 * ._save_to_state_dict} → {@code QuantState.as_dict(packed=True)}):
 * <ul>
 * <li>{@code W}: U8 {@code [ceil(numel/2), 1]}, the packed codes (first element in the high nibble);</li>
 * <li>{@code W.absmax}: U8 {@code [blocks]} nested codes with double quantization, else F32 {@code [blocks]};</li>
 * <li>{@code W.quant_map}: F32 {@code [16]}, the codebook;</li>
 * <li>{@code W.nested_absmax}: F32 {@code [ceil(blocks/256)]} and {@code W.nested_quant_map}: F32 {@code [256]}
 * (double quantization only);</li>
 * <li>{@code W.quant_state.bitsandbytes__nf4} (or {@code __fp4}): U8 bytes of the JSON
 * {@code {"quant_type", "blocksize", "dtype", "shape", "nested_blocksize", "nested_dtype", "nested_offset"}}.</li>
 * </ul>
 * INT8 blockwise has no transformers on-disk format; peft4j stores it the same way with {@code W} as U8
 * {@code [numel, 1]}, a 256-entry {@code quant_map} and the state key {@code quant_state.peft4j__int8}
 * (readable only by peft4j).
 */
public final class StoredLayout {
    public static final String ABSMAX = ".absmax";
    public static final String QUANT_MAP = ".quant_map";
    public static final String NESTED_ABSMAX = ".nested_absmax";
    public static final String NESTED_QUANT_MAP = ".nested_quant_map";
    public static final String STATE = ".quant_state.";
    /** Suffixes of the tensors stored beside a quantized weight (the state key is matched by prefix). */
    public static final List<String> COMPANIONS = List.of(ABSMAX, QUANT_MAP, NESTED_ABSMAX, NESTED_QUANT_MAP);

    private StoredLayout() {
    }

    /** {@code bitsandbytes__nf4}, {@code bitsandbytes__fp4} or {@code peft4j__int8}. */
    public static String stateKey(QuantType type) {
        return type == QuantType.INT8 ? "peft4j__int8" : "bitsandbytes__" + type.bnbName();
    }

    /** The type a state-key suffix names, or {@code null} for a foreign key. */
    public static QuantType typeOfStateKey(String key) {
        for (QuantType t : QuantType.values()) {
            if (stateKey(t).equals(key)) {
                return t;
            }
        }
        return null;
    }

    /** Every tensor stored for {@code q} under {@code weightName}, in a fixed order, data included. */
    public static Map<String, TensorData> tensors(String weightName, QuantizedTensor q) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        out.put(weightName, TensorData.ofBytes("U8", q.data(), q.data().length, 1));
        float[] code = q.config().type().codebook();
        if (q.absmax() instanceof Absmax.Nested n) {
            out.put(weightName + ABSMAX, TensorData.ofBytes("U8", n.codes(), n.codes().length));
            out.put(weightName + QUANT_MAP, TensorData.f32(code, code.length));
            out.put(weightName + NESTED_ABSMAX, TensorData.f32(n.nestedAbsmax(), n.nestedAbsmax().length));
            out.put(weightName + NESTED_QUANT_MAP, TensorData.f32(n.nestedCode(), n.nestedCode().length));
        } else {
            float[] a = ((Absmax.Plain) q.absmax()).values();
            out.put(weightName + ABSMAX, TensorData.f32(a, a.length));
            out.put(weightName + QUANT_MAP, TensorData.f32(code, code.length));
        }
        byte[] json = QuantStateJson.encode(q);
        out.put(weightName + STATE + stateKey(q.config().type()), TensorData.ofBytes("U8", json, json.length));
        return out;
    }
}
