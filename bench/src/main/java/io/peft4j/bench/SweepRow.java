package io.peft4j.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One measured point of {@code peft4j bench train --sweep}: one system (peft4j or PEFT) training one model at one
 * sequence length in its own process. {@link #CSV_HEADER} names the CSV columns in {@link #toCsv()}'s order.
 *
 * <pre>{@code
 * SweepRow r = new SweepRow("peft4j", "synthetic:tinyllama-1.1b", 512, 1, 21.4, 23.9, 2210, true, "nf4-dq", 1.2);
 * String line = r.toCsv();          // peft4j,synthetic:tinyllama-1.1b,512,1,21.4,23.9,2210,true,nf4-dq,1.2
 * SweepRow back = SweepRow.fromCsv(line);
 * }</pre>
 *
 * @param system        {@code peft4j} or {@code peft}
 * @param model         the model: the {@code --model} file's name or {@code synthetic:SHAPE}
 * @param seq           tokens per row
 * @param batch         rows per step
 * @param stepSeconds   median optimizer-step seconds
 * @param tokensPerS    batch × seq / stepSeconds
 * @param peakRssMb     the process's peak resident memory (VmHWM, model load included), MiB
 * @param checkpointing activation checkpointing on
 * @param quantization  how the frozen projections were held (e.g. {@code none (fp32)}, {@code nf4-double-quant})
 * @param load1m        the 1-minute load average when the point started (NaN when unknown)
 */
public record SweepRow(String system, String model, int seq, int batch, double stepSeconds, double tokensPerS,
                       long peakRssMb, boolean checkpointing, String quantization, double load1m) {
    /** peft4j's system name. */
    public static final String PEFT4J = "peft4j";
    /** PEFT + torch's system name. */
    public static final String PEFT = "peft";

    /** The CSV header line. */
    public static final String CSV_HEADER = "system,model,seq,batch,step_s,tokens_per_s,peak_rss_mb,checkpointing,"
            + "quantization,load_1m";

    public SweepRow {
        for (String text : List.of(system, model, quantization)) {
            if (text.contains(",") || text.contains("\n") || text.contains("\"")) {
                throw new IllegalArgumentException("sweep CSV fields hold no comma, quote or newline: '" + text + "'");
            }
        }
    }

    /** This row as one CSV line (no newline); numbers in the root locale, seconds to the millisecond. */
    public String toCsv() {
        return String.join(",", system, model, "" + seq, "" + batch, fixed(stepSeconds), fixed(tokensPerS),
                "" + peakRssMb, "" + checkpointing, quantization,
                Double.isNaN(load1m) ? "" : String.format(Locale.ROOT, "%.2f", load1m));
    }

    /**
     * Parses one {@link #toCsv()} line.
     *
     * @throws IllegalArgumentException when it does not have the {@link #CSV_HEADER} columns
     */
    public static SweepRow fromCsv(String line) {
        String[] f = line.split(",", -1);
        if (f.length != CSV_HEADER.split(",").length) {
            throw new IllegalArgumentException("a sweep CSV line has " + CSV_HEADER.split(",").length
                    + " columns (" + CSV_HEADER + "), got " + f.length + ": " + line);
        }
        try {
            return new SweepRow(f[0], f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), Double.parseDouble(f[4]),
                    Double.parseDouble(f[5]), Long.parseLong(f[6]), Boolean.parseBoolean(f[7]), f[8],
                    f[9].isEmpty() ? Double.NaN : Double.parseDouble(f[9]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a sweep CSV line (" + e.getMessage() + "): " + line, e);
        }
    }

    /** The {@code --json} keys of this row (the CSV column names). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("system", system);
        m.put("model", model);
        m.put("seq", seq);
        m.put("batch", batch);
        m.put("step_s", stepSeconds);
        m.put("tokens_per_s", tokensPerS);
        m.put("peak_rss_mb", peakRssMb);
        m.put("checkpointing", checkpointing);
        m.put("quantization", quantization);
        m.put("load_1m", load1m);
        return m;
    }

    /** The chart's series of this row: system and model. */
    String series() {
        return system + " " + model;
    }

    private static String fixed(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
