package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.MemorySeries;
import io.peft4j.core.testing.NativeMemory;
import io.peft4j.core.testing.NativeMemoryTrend;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;

import java.util.ArrayList;


/**
 * A diagnostic main (not a test): trains the tiny LoRA model of {@link LoraMemoryIT} for many steps and prints, every
 * {@code every} steps after a GC, the live NDArray count, RSS, the committed Java heap, RSS minus the committed heap
 * (the old, noisy measure), RSS outside the heap's resident pages ({@link NativeMemory#settledKb()}), and glibc's
 * own count of bytes handed out by
 * {@code malloc} and not yet freed ({@code mallinfo2}: {@code uordblks + hblkhd}, through JNA, which DJL brings).
 * With {@code -Dprobe.trim=true} it calls {@code malloc_trim(0)} before each sample. Ends with least-squares slopes
 * over each half of the run. Used to tell allocator growth that settles (RSS rises, malloc'd bytes do not) from a
 * per-step leak (both rise); run with different {@code MALLOC_*} environment variables to compare settings.
 *
 * <p>With {@code it LEAK_KB} as arguments it instead runs {@link LoraMemoryIT}'s plan once with a deliberate leak of
 * {@code LEAK_KB} kB per step and prints the samples, the slope and whether the IT's bound would fail it.
 *
 * <pre>{@code
 * MALLOC_ARENA_MAX=2 java -Dprobe.trim=true -cp <test classpath> io.peft4j.lora.LoraMemoryProbe 6000 100
 * java -cp <test classpath> io.peft4j.lora.LoraMemoryProbe it 10
 * }</pre>
 */
public final class LoraMemoryProbe {
    private LoraMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("it")) {
            NativeMemoryTrend trend = LoraMemoryIT.run(Integer.parseInt(args[1]), new ArrayList<>());
            System.out.print("RSS outside heap " + trend.rssKb() + "malloc in use, less the JVM's own "
                    + trend.mallocKb() + "the JVM's own malloc " + trend.jvmMallocKb());
            System.out.printf("leak %s kB/step: %s%n", args[1], LoraMemoryIT.verdict(trend));
            return;
        }
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 6000;
        int every = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        boolean trim = Boolean.getBoolean("probe.trim");
        NativeLibrary libc = NativeLibrary.getInstance("c");
        Function mallinfo2 = libc.getFunction("mallinfo2");
        Function mallocTrim = libc.getFunction("malloc_trim");
        MemorySeries nativeKb = new MemorySeries();
        MemorySeries outsideKb = new MemorySeries();
        MemorySeries inUseKb = new MemorySeries();
        System.out.println("step,liveArrays,rssKb,heapKb,rssMinusHeapKb,outsideHeapKb,mallocInUseKb,mallocArenaKb");
        try (NDManager m = Peft4j.newManager(); LlamaModel model = TinyModels.model(m);
             PeftModel peft = PeftModel.wrap(model)) {
            peft.addAdapter("default", LoraTrainingTest.LORA, 1L);
            TrainerConfig cfg = TrainerConfig.builder().optMaxSteps(steps).optBatchSize(4).optLearningRate(5e-4)
                    .optGradAccum(2).build();
            try (Trainer t = new Trainer(peft, cfg)) {
                t.addListener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        if (s.step() % every == 0) {
                            System.gc();
                            if (trim) {
                                mallocTrim.invokeInt(new Object[] {0L});
                            }
                            NativeMemory.MallInfo2 mi = (NativeMemory.MallInfo2) mallinfo2.invoke(
                                    NativeMemory.MallInfo2.class, new Object[0]);
                            long inUse = (mi.uordblks + mi.hblkhd) >> 10;
                            long rss = ProcessMemory.rssBytes().orElse(0) >> 10;
                            long heap = Runtime.getRuntime().totalMemory() >> 10;
                            long outside = NativeMemory.settledKb();
                            nativeKb.add(s.step(), rss - heap);
                            outsideKb.add(s.step(), outside);
                            inUseKb.add(s.step(), inUse);
                            System.out.printf("%d,%d,%d,%d,%d,%d,%d,%d%n", s.step(), m.getManagedArrays().size(),
                                    rss, heap, rss - heap, outside, inUse,
                                    (mi.arena + mi.hblkhd) >> 10);
                        }
                    }
                });
                t.train(LoraTrainingTest.data(64, 4), null);
            }
        }
        report("RSS - committed heap", nativeKb);
        report("RSS outside heap", outsideKb);
        report("malloc in use", inUseKb);
    }

    private static void report(String what, MemorySeries s) {
        int n = s.size();
        System.out.printf("%s slope, 1st half: %.2f kB/step, 2nd half: %.2f kB/step, last quarter: %.2f kB/step%n",
                what, s.window(0, n / 2).slope(), s.window(n / 2, n).slope(), s.window(3 * n / 4, n).slope());
    }
}
