package io.peft4j.core.checkpoint.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Test-only GGUF writer: builds well-formed files and, through its override knobs, hostile ones.
 *
 * <pre>{@code
 * Path p = new GgufTestWriter().kvString("general.architecture", "llama")
 *         .tensor("x", new long[] {4}, 0, floatsLe(1, 2, 3, 4)).write(dir, "x.gguf");
 * }</pre>
 */
public final class GgufTestWriter {
    static final int T_UINT8 = 0, T_INT8 = 1, T_UINT16 = 2, T_INT16 = 3, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6,
            T_BOOL = 7, T_STRING = 8, T_ARRAY = 9, T_UINT64 = 10, T_INT64 = 11, T_FLOAT64 = 12;

    long magic = 0x46554747L;
    long version = 3;
    Long tensorCountOverride;
    Long kvCountOverride;
    long alignment = 32;
    private final List<Consumer<Le>> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();

    record Tensor(String name, long[] ne, long type, byte[] data, Long offsetOverride) {
    }

    public GgufTestWriter kv(String key, int type, Consumer<Le> value) {
        kvs.add(o -> {
            o.str(key);
            o.u32(type);
            value.accept(o);
        });
        return this;
    }

    public GgufTestWriter kvU32(String key, long v) {
        return kv(key, T_UINT32, o -> o.u32(v));
    }

    public GgufTestWriter kvF32(String key, float v) {
        return kv(key, T_FLOAT32, o -> o.f32(v));
    }

    public GgufTestWriter kvString(String key, String v) {
        return kv(key, T_STRING, o -> o.str(v));
    }

    public GgufTestWriter kvStrings(String key, String... v) {
        return kv(key, T_ARRAY, o -> {
            o.u32(T_STRING);
            o.u64(v.length);
            for (String s : v) {
                o.str(s);
            }
        });
    }

    /** Sets {@code general.alignment} (written as a UINT32 key) and uses it for the data layout. */
    public GgufTestWriter alignment(long a) {
        alignment = a;
        return kvU32("general.alignment", a);
    }

    public GgufTestWriter tensor(String name, long[] ne, long type, byte[] data) {
        tensors.add(new Tensor(name, ne, type, data, null));
        return this;
    }

    public GgufTestWriter tensorAt(String name, long[] ne, long type, byte[] data, long offset) {
        tensors.add(new Tensor(name, ne, type, data, offset));
        return this;
    }

    public byte[] build() {
        Le o = new Le();
        o.u32(magic);
        o.u32(version);
        o.u64(tensorCountOverride != null ? tensorCountOverride : tensors.size());
        o.u64(kvCountOverride != null ? kvCountOverride : kvs.size());
        kvs.forEach(kv -> kv.accept(o));
        List<Long> offsets = new ArrayList<>();
        long next = 0;
        for (Tensor t : tensors) {
            if (t.offsetOverride != null) {
                offsets.add(t.offsetOverride); // hostile placement: does not grow the data section
                continue;
            }
            offsets.add(next);
            next = align(next + t.data.length, alignment);
        }
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            o.str(t.name);
            o.u32(t.ne.length);
            for (long d : t.ne) {
                o.u64(d);
            }
            o.u32(t.type);
            o.u64(offsets.get(i));
        }
        o.pad(alignment);
        long base = o.size();
        byte[] data = new byte[(int) next];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            long off = offsets.get(i);
            if (off >= 0 && off + t.data.length <= data.length) {
                System.arraycopy(t.data, 0, data, (int) off, t.data.length);
            }
        }
        o.bytes(data);
        assert o.size() == base + data.length;
        return o.toByteArray();
    }

    public Path write(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, build());
        return p;
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    public static byte[] floatsLe(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** Little-endian byte sink. */
    static final class Le {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Le u8(int v) {
            out.write(v);
            return this;
        }

        Le u16(int v) {
            return u8(v & 0xFF).u8((v >>> 8) & 0xFF);
        }

        Le u32(long v) {
            return u16((int) (v & 0xFFFF)).u16((int) ((v >>> 16) & 0xFFFF));
        }

        Le u64(long v) {
            return u32(v & 0xFFFF_FFFFL).u32(v >>> 32);
        }

        Le f32(float v) {
            return u32(Float.floatToRawIntBits(v) & 0xFFFF_FFFFL);
        }

        Le f64(double v) {
            return u64(Double.doubleToRawLongBits(v));
        }

        Le str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            return bytes(b);
        }

        Le bytes(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        Le pad(long alignment) {
            while (out.size() % alignment != 0) {
                out.write(0);
            }
            return this;
        }

        long size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
