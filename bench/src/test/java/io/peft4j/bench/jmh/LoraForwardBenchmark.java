package io.peft4j.bench.jmh;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.peft4j.core.DenseLinear;
import io.peft4j.core.Peft4j;
import io.peft4j.lora.InitLoraWeights;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.LoraLinear;
import io.peft4j.lora.TargetModules;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * JMH: one LoRA linear forward {@code x·Wᵀ + s·(x·Aᵀ)·Bᵀ} on {@code [tokens, in]} against the dense base alone
 * ({@code in → out}, default SmolLM2-135M's up_proj 576 → 1536), with the adapter unmerged and merged (the merged
 * forward should cost what the base costs). The difference is LoRA's per-layer overhead in inference. Run with
 * {@code scripts/bench/jmh.sh LoraForward} (never by {@code mvn verify}).
 *
 * <pre>{@code
 * bash scripts/bench/jmh.sh LoraForwardBenchmark -p r=8,64 -p tokens=512
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class LoraForwardBenchmark {
    @Param({"128"})
    public int tokens;

    @Param({"576"})
    public int in;

    @Param({"1536"})
    public int out;

    @Param({"16"})
    public int r;

    NDManager manager;
    DenseLinear base;
    LoraLinear lora;
    LoraLinear merged;
    NDArray x;

    @Setup(Level.Trial)
    public void setUp() {
        manager = Peft4j.newManager();
        manager.getEngine().setRandomSeed(7);
        base = new DenseLinear(manager.randomNormal(0, 0.02f, new Shape(out, in), DataType.FLOAT32), null);
        LoraConfig config = LoraConfig.builder().optR(r).optLoraAlpha(2.0 * r).optTargetModules(TargetModules.of("p"))
                .optInitLoraWeights(InitLoraWeights.RANDOM).build();
        lora = new LoraLinear("p", base, manager);
        lora.addAdapter("default", config, 1L);
        lora.setActive("default", true);
        merged = new LoraLinear("p", base, manager);
        merged.addAdapter("default", config, 1L);
        merged.setActive("default", true);
        merged.merge("default");
        x = manager.randomNormal(new Shape(tokens, in));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lora.close();
        merged.close();
        manager.close();
    }

    /** The frozen dense projection alone. */
    @Benchmark
    public float base() {
        return forward(base::forward);
    }

    /** Base plus the unmerged adapter delta. */
    @Benchmark
    public float loraUnmerged() {
        return forward(lora::forward);
    }

    /** The adapter merged into an effective weight. */
    @Benchmark
    public float loraMerged() {
        return forward(merged::forward);
    }

    private float forward(java.util.function.UnaryOperator<NDArray> layer) {
        try (NDScope scope = new NDScope()) {
            return layer.apply(x).getFloat(0, 0);
        }
    }
}
