package io.peft4j.cli;

import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.util.Map;

/**
 * The LoRA options every command that builds a LoRA adapter shares ({@code finetune}, {@code bench train},
 * {@code bench mixed}): {@code --r}, {@code --alpha}, {@code --dropout}, {@code --target-modules},
 * {@code --use-dora}, {@code --use-rslora}, with finetune's defaults. The benches measure the PEFT bench
 * configuration instead and declare {@link BenchDefaults} as their default provider. Mix in with
 * {@code @Mixin LoraOptions lora;}.
 *
 * <pre>{@code
 * LoraConfig config = lora.builder().optBaseModelNameOrPath(model.toString()).build();
 * }</pre>
 */
final class LoraOptions {
    @Option(names = "--r", defaultValue = "8", description = "LoRA rank (default ${DEFAULT-VALUE}).")
    int r;

    @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--dropout", defaultValue = "0.05", description = "LoRA dropout (default ${DEFAULT-VALUE}).")
    double dropout;

    @Option(names = "--target-modules", defaultValue = "q_proj,v_proj",
            description = "Comma-separated names, 'all-linear', or a regex prefixed with 're:' (default ${DEFAULT-VALUE}).")
    String targetModules;

    @Option(names = "--use-dora", description = "DoRA (weight-decomposed LoRA).")
    boolean dora;

    @Option(names = "--use-rslora", description = "Rank-stabilised scaling alpha/sqrt(r).")
    boolean rslora;

    /** A builder holding these options (bad {@code --target-modules} fails here, naming the option). */
    LoraConfig.Builder builder() {
        return LoraConfig.builder().optR(r).optLoraAlpha(alpha).optLoraDropout(dropout)
                .optTargetModules(TargetModules.parse(targetModules)).optUseDora(dora).optUseRslora(rslora);
    }

    /**
     * The benches' LoRA defaults (r 16, alpha 32, no dropout, all linear projections: the configuration
     * {@code scripts/interop/bench_peft.py} measures by default); a command declares it with
     * {@code @Command(defaultValueProvider = LoraOptions.BenchDefaults.class)}.
     */
    static final class BenchDefaults implements IDefaultValueProvider {
        private static final Map<String, String> DEFAULTS = Map.of("--r", "16", "--alpha", "32", "--dropout", "0",
                "--target-modules", "all-linear");

        @Override
        public String defaultValue(ArgSpec arg) {
            return arg instanceof OptionSpec o ? DEFAULTS.get(o.longestName()) : null;
        }
    }
}
