package io.peft4j.bench;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The files of {@code peft4j bench train --sweep}: the rows as CSV ({@link SweepRow#CSV_HEADER}), read back for
 * {@code --append}, and a PNG chart of two panels sharing the seq axis, step time (log scale) above and peak RSS
 * below, one line per system and model (one colour per model; peft4j solid with circles, PEFT dashed with squares).
 * Stateless.
 *
 * <pre>{@code
 * SweepReport.writeCsv(dir.resolve("sweep.csv"), rows);
 * SweepReport.writeChart(dir.resolve("sweep.png"), rows, "bench train --sweep, 2 cores");
 * }</pre>
 */
public final class SweepReport {
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};

    private SweepReport() {
    }

    /** Writes {@code rows} to {@code csv} (header line first), creating its folder. */
    public static void writeCsv(Path csv, List<SweepRow> rows) throws IOException {
        List<String> lines = new ArrayList<>(List.of(SweepRow.CSV_HEADER));
        rows.forEach(r -> lines.add(r.toCsv()));
        createParent(csv);
        Files.write(csv, lines, StandardCharsets.UTF_8);
    }

    /**
     * The rows of a {@link #writeCsv} file.
     *
     * @throws IllegalArgumentException when its header or a line is not the sweep CSV's
     */
    public static List<SweepRow> readCsv(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).strip().equals(SweepRow.CSV_HEADER)) {
            throw new IllegalArgumentException(csv + " is not a sweep CSV (its first line is not '"
                    + SweepRow.CSV_HEADER + "')");
        }
        List<SweepRow> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.isBlank()) {
                rows.add(SweepRow.fromCsv(line.strip()));
            }
        }
        return rows;
    }

    /**
     * {@code earlier} with every row of {@code later} added, a later row replacing an earlier one of the same
     * system, model and seq; sorted by model, system, seq.
     */
    public static List<SweepRow> merge(List<SweepRow> earlier, List<SweepRow> later) {
        Map<String, SweepRow> byKey = new LinkedHashMap<>();
        for (SweepRow r : earlier) {
            byKey.put(r.series() + "@" + r.seq(), r);
        }
        for (SweepRow r : later) {
            byKey.put(r.series() + "@" + r.seq(), r);
        }
        List<SweepRow> all = new ArrayList<>(byKey.values());
        all.sort(Comparator.comparing(SweepRow::model).thenComparing(SweepRow::system)
                .thenComparingInt(SweepRow::seq));
        return all;
    }

    /** Writes the two-panel PNG chart of {@code rows} (1000 × 900 pixels), creating its folder. */
    public static void writeChart(Path png, List<SweepRow> rows, String title) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");   // no display needed to draw into an image
        }
        List<String> models = rows.stream().map(SweepRow::model).distinct().sorted().toList();
        List<String> series = rows.stream().sorted(Comparator.comparing(SweepRow::model)
                .thenComparing(SweepRow::system)).map(SweepRow::series).distinct().toList();
        LogAxis seqAxis = new LogAxis("seq (tokens per row, log scale)");
        seqAxis.setBase(2);
        seqAxis.setTickUnit(new NumberTickUnit(1));          // one tick per power of two
        seqAxis.setNumberFormatOverride(new DecimalFormat("0"));
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(seqAxis);
        LogAxis stepAxis = new LogAxis("step time (s, log scale)");
        stepAxis.setBase(2);
        stepAxis.setTickUnit(new NumberTickUnit(1));         // 0.5, 1, 2, 4, ... seconds
        stepAxis.setSmallestValue(1e-3);
        stepAxis.setNumberFormatOverride(new DecimalFormat("0.###"));
        NumberAxis rssAxis = new NumberAxis("peak RSS (MiB)");
        plot.add(panel(rows, series, models, SweepRow::stepSeconds, stepAxis, true), 1);
        plot.add(panel(rows, series, models, r -> r.peakRssMb(), rssAxis, false), 1);
        plot.setGap(12);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        createParent(png);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 900);
    }

    private static XYPlot panel(List<SweepRow> rows, List<String> series, List<String> models,
                                ToDoubleFunction<SweepRow> y, ValueAxis axis, boolean legend) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (String name : series) {
            XYSeries s = new XYSeries(name);
            SweepRow any = null;
            for (SweepRow r : rows) {
                if (r.series().equals(name)) {
                    s.add(r.seq(), y.applyAsDouble(r));
                    any = r;
                }
            }
            int i = data.getSeriesCount();
            data.addSeries(s);
            renderer.setSeriesPaint(i, COLOURS[models.indexOf(any.model()) % COLOURS.length]);
            renderer.setSeriesStroke(i, SweepRow.PEFT4J.equals(any.system()) ? new BasicStroke(2.2f)
                    : new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f},
                    0f));
            renderer.setSeriesShape(i, SweepRow.PEFT4J.equals(any.system()) ? new Ellipse2D.Double(-4, -4, 8, 8)
                    : new Rectangle2D.Double(-4, -4, 8, 8));
            renderer.setSeriesVisibleInLegend(i, legend);
        }
        XYPlot p = new XYPlot(data, null, axis, renderer);
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return p;
    }

    private static void createParent(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
    }
}
