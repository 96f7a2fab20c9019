package io.peft4j.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SweepRow} and {@link SweepReport}: the CSV's exact columns and text, a lossless round trip, merge order and
 * replacement, and a chart that is a readable 1000 × 900 PNG with the series colours drawn in it.
 */
class SweepReportTest {
    @TempDir
    Path tmp;

    private static final List<SweepRow> ROWS = List.of(
            new SweepRow("peft4j", "synthetic:tinyllama-1.1b", 128, 1, 4.25, 30.117647, 1900, true,
                    "nf4-double-quant", 1.5),
            new SweepRow("peft", "synthetic:tinyllama-1.1b", 128, 1, 5.0, 25.6, 3100, true,
                    "nf4-double-quant (bitsandbytes 0.50.2)", Double.NaN),
            new SweepRow("peft4j", "synthetic:tinyllama-1.1b", 256, 1, 8.0, 32.0, 2000, true, "nf4-double-quant",
                    2.25),
            new SweepRow("peft4j", "SmolLM2-135M", 128, 1, 0.5, 256.0, 900, false, "none (fp32)", 0.5),
            new SweepRow("peft", "SmolLM2-135M", 128, 1, 0.4, 320.0, 1700, false, "none (fp32)", 0.75));

    @Test
    void csv_exactTextAndRoundTrip() throws Exception {
        Path csv = tmp.resolve("a/b/sweep.csv");
        SweepReport.writeCsv(csv, ROWS);
        List<String> lines = Files.readAllLines(csv);
        assertEquals("system,model,seq,batch,step_s,tokens_per_s,peak_rss_mb,checkpointing,quantization,load_1m",
                lines.get(0));
        assertEquals("peft4j,synthetic:tinyllama-1.1b,128,1,4.250,30.118,1900,true,nf4-double-quant,1.50",
                lines.get(1));
        assertEquals("peft,synthetic:tinyllama-1.1b,128,1,5.000,25.600,3100,true,"
                + "nf4-double-quant (bitsandbytes 0.50.2),", lines.get(2));
        assertEquals(ROWS.size() + 1, lines.size());
        List<SweepRow> back = SweepReport.readCsv(csv);
        assertEquals(ROWS.size(), back.size());
        assertEquals(30.118, back.get(0).tokensPerS(), 0);
        assertTrue(Double.isNaN(back.get(1).load1m()));
        assertEquals(ROWS.get(3), back.get(3));
        assertEquals(ROWS.get(4).toCsv(), back.get(4).toCsv());
    }

    @Test
    void badCsv_oneMessage() throws Exception {
        Path csv = Files.writeString(tmp.resolve("x.csv"), "a,b\n1,2\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepReport.readCsv(csv)).getMessage()
                .contains("is not a sweep CSV"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepRow.fromCsv("peft4j,m,1,2"))
                .getMessage().contains("got 4"));
        assertThrows(IllegalArgumentException.class, () -> new SweepRow("peft4j", "a,b", 1, 1, 1, 1, 1, false,
                "q", 0));
    }

    @Test
    void merge_laterRowReplacesSamePoint_sortedByModelSystemSeq() {
        SweepRow again = new SweepRow("peft4j", "SmolLM2-135M", 128, 1, 0.45, 284.4, 880, false, "none (fp32)",
                0.1);
        SweepRow fresh = new SweepRow("peft4j", "SmolLM2-135M", 64, 1, 0.3, 213.3, 850, false, "none (fp32)", 0.1);
        List<SweepRow> all = SweepReport.merge(ROWS, List.of(again, fresh));
        assertEquals(6, all.size());
        assertEquals(List.of("peft SmolLM2-135M@128", "peft4j SmolLM2-135M@64", "peft4j SmolLM2-135M@128",
                        "peft synthetic:tinyllama-1.1b@128", "peft4j synthetic:tinyllama-1.1b@128",
                        "peft4j synthetic:tinyllama-1.1b@256"),
                all.stream().map(r -> r.series() + "@" + r.seq()).toList());
        assertEquals(880, all.get(2).peakRssMb());
    }

    @Test
    void chart_isA1000x900PngWithBothModelColours() throws Exception {
        Path png = tmp.resolve("c/sweep.png");
        SweepReport.writeChart(png, ROWS, "test sweep");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1000, img.getWidth());
        assertEquals(900, img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                colours.add(img.getRGB(x, y) & 0xFFFFFF);
            }
        }
        assertTrue(colours.contains(0x1f77b4), "first model's colour drawn");
        assertTrue(colours.contains(0xd62728), "second model's colour drawn");
    }
}
