package io.peft4j.cli;

import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.quant.DequantBenchmark;
import io.peft4j.quant.QuantConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code peft4j bench dequant}: NF4 (+ double quant) dequantization elements/s of a 4096×4096 weight against a copy
 * of the same fp32 output in the same run (median of per-round ratios, with min and max); with a model (default:
 * the SmolLM2 test model when present) also the forward time of the nf4 model against the fp32 model.
 */
@Command(name = "dequant", description = "NF4 dequantization elements/s vs an fp32 copy; nf4 vs fp32 forward time.")
final class BenchDequantCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--rows", defaultValue = "4096", description = "Weight rows (default 4096).")
    int rows;

    @Option(names = "--cols", defaultValue = "4096", description = "Weight columns (default 4096).")
    int cols;

    @Option(names = "--iterations", defaultValue = "7", description = "Timed rounds after 2 warm-up rounds; medians "
            + "and the median per-round ratio are reported (default 7).")
    int iterations;

    @Option(names = "--model", description = "Model for the forward comparison (default: $PEFT4J_TEST_MODEL or "
            + "~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf if present; 'none' to skip).")
    String model;

    @Option(names = "--tokens", defaultValue = "128", description = "Sequence length of the forward comparison.")
    int tokens;

    @Override
    public Integer call() throws Exception {
        DequantBenchmark.Result r = DequantBenchmark.run(rows, cols, iterations);
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("name", "dequant");
        res.put("elements", r.elements());
        res.put("rounds", iterations);
        res.put("dequant_elements_per_s", round(r.sharedElemsPerS()));
        res.put("dequant_java_loop_elements_per_s", round(r.javaElemsPerS()));
        res.put("dequant_djl_ops_elements_per_s", round(r.djlElemsPerS()));
        res.put("copy_elements_per_s", round(r.copyElemsPerS()));
        res.put("djl_copy_elements_per_s", round(r.djlCopyElemsPerS()));
        res.put("ratio_dequant_vs_copy", ratio(r.ratioDequantVsCopy()));
        res.put("ratio_dequant_vs_copy_min", ratio(r.ratios()[0]));
        res.put("ratio_dequant_vs_copy_max", ratio(r.ratios()[r.ratios().length - 1]));
        res.put("ratio_djl_dequant_vs_copy", ratio(r.ratioDjlVsCopy()));
        res.put("ratio_djl_dequant_vs_djl_copy", ratio(r.ratioDjlVsDjlCopy()));
        Path m = modelPath();
        if (m != null) {
            System.err.println("forward comparison on " + m + " (" + tokens + " tokens)");
            try (Checkpoint ckpt = Checkpoints.open(m)) {
                double[] ms = DequantBenchmark.forwardMillis(ckpt.config(), ckpt.tensors(),
                        QuantConfig.nf4DoubleQuant(), tokens, iterations);
                res.put("forward_fp32_ms", Math.round(ms[0] * 10) / 10.0);
                res.put("forward_nf4_ms", Math.round(ms[1] * 10) / 10.0);
                res.put("ratio_forward_nf4_vs_fp32", ratio(ms[1] / ms[0]));
            }
        }
        out.print(res);
        return 0;
    }

    private Path modelPath() {
        if ("none".equals(model)) {
            return null;
        }
        if (model != null) {
            return Paths.get(model);
        }
        String env = System.getenv("PEFT4J_TEST_MODEL");
        Path p = env != null ? Paths.get(env) : Paths.get(System.getProperty("user.home"), ".cache", "peft4j",
                "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
        return Files.isRegularFile(p) ? p : null;
    }

    private static double ratio(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static double round(double v) {
        return Math.round(v / 1e4) * 1e4;
    }
}
