package io.peft4j.core.checkpoint.internal;

import ai.djl.ndarray.types.DataType;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The safetensors dtypes peft4j reads and writes, with their element size in bytes. Declared in the order of
 * the Rust {@code safetensors::Dtype} enum, so sorting by {@link #ordinal()} descending reproduces the tensor
 * order the Python/Rust library writes (largest alignment first, then by name).
 *
 * <pre>{@code
 * SafetensorsDtype d = SafetensorsDtype.parse("BF16"); // null for an unsupported spelling
 * long bytes = numel * d.size();
 * }</pre>
 */
public enum SafetensorsDtype {
    BOOL(1, false),
    U8(1, false),
    I8(1, false),
    I16(2, false),
    F16(2, true),
    BF16(2, true),
    I32(4, false),
    F32(4, true),
    F64(8, true),
    I64(8, false);

    private final int size;
    private final boolean floating;

    SafetensorsDtype(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** True for F16, BF16, F32, F64. */
    public boolean isFloating() {
        return floating;
    }

    /** The dtype spelled as in a safetensors header, or null when peft4j does not support it. */
    public static SafetensorsDtype parse(String spelling) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(spelling)) {
                return d;
            }
        }
        return null;
    }

    /** Like {@link #parse} but a caller mistake raises {@link IllegalArgumentException}. */
    public static SafetensorsDtype require(String spelling) {
        SafetensorsDtype d = spelling == null ? null : parse(spelling.toUpperCase(Locale.ROOT));
        if (d == null) {
            throw new IllegalArgumentException("unsupported safetensors dtype '" + spelling + "' (supported: "
                    + supported() + ")");
        }
        return d;
    }

    /** Comma-separated list for messages. */
    public static String supported() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /** The DJL type an array of this dtype is loaded as (half floats and I16 widen; fp64 narrows). */
    public DataType djlType() {
        return switch (this) {
            case F32, F16, BF16, F64 -> DataType.FLOAT32;
            case I16, I32 -> DataType.INT32;
            case I8 -> DataType.INT8;
            case U8 -> DataType.UINT8;
            case I64 -> DataType.INT64;
            case BOOL -> DataType.BOOLEAN;
        };
    }
}
