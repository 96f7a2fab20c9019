package io.peft4j.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Internal: the small safetensors subset adapter files need: write F32 tensors with {@code __metadata__}; read F32, F16 and
 * BF16 tensors (widened to fp32 in Java; BF16 never reaches DJL). Used for adapters and optimizer state (a few MB),
 * so whole-file reads are fine.
 *
 * <pre>{@code
 * F32Safetensors.write(out, Map.of("w", new F32Safetensors.Source(new long[] {2}, () -> new float[] {1, 2})), Map.of());
 * F32Safetensors.Contents c = F32Safetensors.read(file);
 * }</pre>
 */
public final class F32Safetensors {
    /** One tensor: shape (outermost first) and row-major fp32 values. */
    public record Tensor(long[] shape, float[] values) {
    }

    /** A tensor to write: its shape and a source of its values, read only while the data section is written. */
    public record Source(long[] shape, java.util.function.Supplier<float[]> values) {
        long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Tensors in file order plus string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    private F32Safetensors() {
    }

    public static void write(OutputStream out, Map<String, Source> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = Json.MAPPER.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, Source> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            long bytes = 4L * e.getValue().count();
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;       // header padded with spaces to 8 bytes, as huggingface does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        out.write(head.array());
        for (Map.Entry<String, Source> e : tensors.entrySet()) {
            float[] v = e.getValue().values().get();
            if (v.length != e.getValue().count()) {
                throw new IllegalStateException("tensor " + e.getKey() + " changed size while saving");
            }
            ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(v);
            out.write(bb.array());
        }
    }

    public static Contents read(Path file) throws CheckpointFormatException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(file, "file is " + size + " bytes, shorter than the 8-byte header size");
            }
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
            while (all.hasRemaining() && ch.read(all) >= 0) {
                // read fully
            }
            all.flip();
            long n = all.getLong(0);                         // u64 N: length of the JSON header
            if (n <= 0 || n > size - 8) {
                throw new CheckpointFormatException(file, "header length " + n + " does not fit file size " + size);
            }
            JsonNode header = Json.MAPPER.readTree(new String(all.array(), 8, (int) n, StandardCharsets.UTF_8));
            return parse(file, header, all.position(8 + (int) n).slice().order(ByteOrder.LITTLE_ENDIAN));
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static Contents parse(Path file, JsonNode header, ByteBuffer data) throws CheckpointFormatException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(e.getKey(), tensor(file, e.getKey(), e.getValue(), data));
        }
        return new Contents(tensors, meta);
    }

    private static Tensor tensor(Path file, String name, JsonNode t, ByteBuffer data)
            throws CheckpointFormatException {
        String dtype = t.path("dtype").asText();
        JsonNode shapeNode = t.path("shape");
        JsonNode offs = t.path("data_offsets");
        if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
            throw new CheckpointFormatException(file, name, "missing shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new CheckpointFormatException(file, name, "bad shape " + shapeNode);
            }
            count *= shape[i];
        }
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new CheckpointFormatException(file, name, "unsupported adapter dtype " + dtype
                    + " (F32, F16, BF16)");
        };
        long begin = offs.get(0).asLong(-1);
        long end = offs.get(1).asLong(-1);
        if (begin < 0 || end > data.capacity() || end - begin != count * width) {
            throw new CheckpointFormatException(file, name, "data_offsets " + offs + " do not fit " + dtype
                    + " shape " + shapeNode + " in a data section of " + data.capacity() + " bytes");
        }
        ByteBuffer b = data.duplicate().position((int) begin).limit((int) end).slice().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[(int) count];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (dtype) {
                case "F32" -> b.getFloat(4 * i);
                case "F16" -> halfToFloat(b.getShort(2 * i));
                default -> Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16);
            };
        }
        return new Tensor(shape, v);
    }

    /** IEEE 754 binary16 to binary32 (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant / 1024f / 16384f;             // subnormal: mant * 2^-24
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
