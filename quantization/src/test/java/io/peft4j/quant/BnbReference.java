package io.peft4j.quant;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/** Reads {@code interop/bnb_reference.json} (written by scripts/interop/bnb_reference.py) and rebuilds its inputs. */
final class BnbReference {
    private BnbReference() {
    }

    static JsonNode load() throws IOException {
        try (InputStream in = BnbReference.class.getResourceAsStream("/interop/bnb_reference.json")) {
            if (in == null) {
                throw new IOException("test resource /interop/bnb_reference.json missing");
            }
            return Json.MAPPER.readTree(in);
        }
    }

    /** The script's LCG inputs: integer arithmetic only, then the same fp32 operations in the same order. */
    static float[] input(JsonNode c) {
        long[] shape = shape(c);
        int n = (int) (shape[0] * shape[1]);
        long state = c.get("seed").asLong();
        float scale = (float) c.get("scale").asDouble();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            long s = 0;
            for (int k = 0; k < 4; k++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                s += state >>> 42;
            }
            float v = (float) (s - (1 << 23)) / (float) (1 << 21) * scale;
            out[i] = i % 97 == 0 ? v * 8.0f : v;
        }
        for (JsonNode r : c.get("zero_rows")) {
            int row = r.asInt();
            for (int j = 0; j < shape[1]; j++) {
                out[(int) (row * shape[1] + j)] = 0f;
            }
        }
        return out;
    }

    static long[] shape(JsonNode c) {
        JsonNode s = c.get("shape");
        return new long[] {s.get(0).asLong(), s.get(1).asLong()};
    }

    static byte[] bytes(JsonNode n) {
        return Base64.getDecoder().decode(n.asText());
    }

    static float[] floats(JsonNode n) {
        ByteBuffer b = ByteBuffer.wrap(bytes(n)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static String sha256(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
