package io.peft4j.core.adapter.internal;

import io.peft4j.core.LinearLayer;
import io.peft4j.core.ModelConfig;
import io.peft4j.core.model.CausalLM;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * SHA-256 (first 16 bytes, hex) of a base model's architecture and projection shapes. Independent of how weights
 * are stored (dense or quantized), so an adapter trained on the fp32 model loads on its NF4 version.
 */
public final class BaseFingerprint {
    private BaseFingerprint() {
    }

    public static String of(CausalLM model) {
        ModelConfig c = model.config();
        StringBuilder sb = new StringBuilder()
                .append(c.modelType()).append('|').append(c.vocabSize()).append('|').append(c.hiddenSize())
                .append('|').append(c.numLayers()).append('|').append(c.numHeads()).append('|')
                .append(c.numKvHeads()).append('|').append(c.headDim());
        for (Map.Entry<String, LinearLayer> e : model.linearLayers().entrySet()) {
            sb.append('\n').append(e.getKey()).append(':').append(e.getValue().outFeatures()).append('x')
                    .append(e.getValue().inFeatures());
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JRE", e);
        }
    }
}
