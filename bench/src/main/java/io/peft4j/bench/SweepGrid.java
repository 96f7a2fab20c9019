package io.peft4j.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The grid of {@code peft4j bench train --sweep}: sequence lengths × models, one measured point each. A model is
 * {@link #REAL} (the {@code --model} file) or a synthetic shape of {@link SyntheticTrainBenchmark#SHAPES}, named in
 * full or by its last part ({@code 360m} for {@code smollm2-360m}, {@code 1.1b} for {@code tinyllama-1.1b};
 * {@code 135m} is an alias of {@code real}). Points are ordered model by model, seq ascending within a model; at
 * each point every system of {@link #systems} is measured ({@code peft4j}, {@code peft}; default both).
 *
 * <pre>{@code
 * SweepGrid g = SweepGrid.parse("128,512", "real,1.1b", true);
 * g.points();   // [real@128, real@512, tinyllama-1.1b@128, tinyllama-1.1b@512]
 * }</pre>
 *
 * @param seqs   sequence lengths, ascending, distinct
 * @param models  {@link #REAL} and/or shape names, distinct, in the order given
 * @param systems {@link SweepRow#PEFT4J} and/or {@link SweepRow#PEFT}, distinct, that order
 */
public record SweepGrid(List<Integer> seqs, List<String> models, List<String> systems) {
    /** The {@code --model} file as a sweep model. */
    public static final String REAL = "real";

    /** Sequence lengths swept when none are given. */
    public static final List<Integer> DEFAULT_SEQS = List.of(128, 256, 512, 1024);

    /** One measured point: a model of the grid at one sequence length. */
    public record Point(String model, int seq) {
        /** True for the {@code --model} file, false for a synthetic shape. */
        public boolean real() {
            return REAL.equals(model);
        }

        @Override
        public String toString() {
            return model + "@" + seq;
        }
    }

    /** Both systems. */
    public static final List<String> BOTH = List.of(SweepRow.PEFT4J, SweepRow.PEFT);

    public SweepGrid {
        if (seqs.isEmpty() || models.isEmpty() || systems.isEmpty()) {
            throw new IllegalArgumentException("a sweep needs at least one seq, one model and one system");
        }
        seqs = List.copyOf(seqs);
        models = List.copyOf(models);
        systems = List.copyOf(systems);
    }

    /** {@link #parse(String, String, String, boolean)} measuring both systems. */
    public static SweepGrid parse(String seqs, String models, boolean haveModel) {
        return parse(seqs, models, null, haveModel);
    }

    /** True when {@code system} ({@link SweepRow#PEFT4J} or {@link SweepRow#PEFT}) is measured. */
    public boolean measures(String system) {
        return systems.contains(system);
    }

    /**
     * Parses {@code --sweep-seqs}, {@code --sweep-models} and {@code --sweep-systems} (comma lists; null = the
     * defaults: {@link #DEFAULT_SEQS}; {@code real} when {@code haveModel} plus every synthetic shape; {@link #BOTH}).
     *
     * @throws IllegalArgumentException naming the bad entry: not a positive integer, an unknown model or system, or
     *                                  {@code real} without {@code --model}
     */
    public static SweepGrid parse(String seqs, String models, String systems, boolean haveModel) {
        Set<Integer> s = new java.util.TreeSet<>();
        if (seqs == null) {
            s.addAll(DEFAULT_SEQS);
        } else {
            for (String part : split(seqs, "--sweep-seqs")) {
                int v;
                try {
                    v = Integer.parseInt(part);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--sweep-seqs: '" + part + "' is not a whole number");
                }
                if (v < 1) {
                    throw new IllegalArgumentException("--sweep-seqs: seq must be >= 1, got " + v);
                }
                s.add(v);
            }
        }
        Set<String> m = new LinkedHashSet<>();
        if (models == null) {
            if (haveModel) {
                m.add(REAL);
            }
            m.addAll(SyntheticTrainBenchmark.SHAPES.keySet());
        } else {
            for (String part : split(models, "--sweep-models")) {
                String name = resolve(part.toLowerCase(Locale.ROOT));
                if (REAL.equals(name) && !haveModel) {
                    throw new IllegalArgumentException("--sweep-models: '" + part + "' is the --model file, and no "
                            + "--model was given");
                }
                m.add(name);
            }
        }
        List<String> sys = BOTH;
        if (systems != null) {
            Set<String> named = new java.util.HashSet<>();
            for (String part : split(systems, "--sweep-systems")) {
                String name = part.toLowerCase(Locale.ROOT);
                if (!BOTH.contains(name)) {
                    throw new IllegalArgumentException("--sweep-systems: unknown system '" + part + "' (peft4j, "
                            + "peft)");
                }
                named.add(name);
            }
            sys = BOTH.stream().filter(named::contains).toList();
        }
        return new SweepGrid(new ArrayList<>(s), new ArrayList<>(m), sys);
    }

    /** Every point, model by model, seq ascending. */
    public List<Point> points() {
        List<Point> p = new ArrayList<>();
        for (String model : models) {
            for (int seq : seqs) {
                p.add(new Point(model, seq));
            }
        }
        return Collections.unmodifiableList(p);
    }

    private static List<String> split(String list, String option) {
        List<String> parts = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String t = part.strip();
            if (t.isEmpty()) {
                throw new IllegalArgumentException(option + ": empty entry in '" + list + "'");
            }
            parts.add(t);
        }
        return parts;
    }

    /** {@code name} as a grid model: real, a shape name, or the unique shape whose name ends in "-" + name. */
    private static String resolve(String name) {
        if (REAL.equals(name) || "135m".equals(name)) {
            return REAL;
        }
        if (SyntheticTrainBenchmark.SHAPES.containsKey(name)) {
            return name;
        }
        List<String> hits = SyntheticTrainBenchmark.SHAPES.keySet().stream().filter(k -> k.endsWith("-" + name))
                .toList();
        if (hits.size() != 1) {
            throw new IllegalArgumentException("--sweep-models: unknown model '" + name + "' (known: real or 135m "
                    + "for --model, " + String.join(", ", SyntheticTrainBenchmark.SHAPES.keySet()) + ")");
        }
        return hits.get(0);
    }
}
