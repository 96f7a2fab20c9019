package io.peft4j.qlora;

/**
 * Where a QLoRA model's bytes go: the frozen 4-bit projections, the fp32 rest of the base (embeddings, norms,
 * lm_head), the trainable adapter and the AdamW state it needs (two fp32 moments per trainable parameter).
 *
 * <pre>{@code
 * MemoryReport m = qlora.memory();
 * System.out.printf("base %.1f MB vs fp32 %.1f MB%n", m.baseBytes() / 1e6, m.fp32BaseBytes() / 1e6);
 * }</pre>
 *
 * @param quantizedParams     parameters stored 4-bit
 * @param quantizedBytes      bytes of packed codes + scales of those parameters
 * @param fullPrecisionParams parameters of the base kept fp32
 * @param adapterParams       trainable adapter parameters
 *
 * @since 0.1.0
 */
public record MemoryReport(long quantizedParams, long quantizedBytes, long fullPrecisionParams, long adapterParams) {

    /** Bytes of the whole frozen base as held (4-bit projections + fp32 rest). */
    public long baseBytes() {
        return quantizedBytes + 4L * fullPrecisionParams;
    }

    /** Bytes the same base would take in fp32. */
    public long fp32BaseBytes() {
        return 4L * (quantizedParams + fullPrecisionParams);
    }

    /** Adapter weights plus AdamW's two moments, all fp32. */
    public long trainingStateBytes() {
        return 3L * 4L * adapterParams;
    }

    /** Bits per quantized parameter (QLoRA's NF4 + double quant: about 4.127). */
    public double bitsPerQuantizedParam() {
        return quantizedParams == 0 ? 0 : 8.0 * quantizedBytes / quantizedParams;
    }
}
