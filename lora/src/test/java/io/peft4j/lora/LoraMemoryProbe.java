package io.peft4j.lora;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.ProcessMemory;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.LlamaModel;
import io.peft4j.core.testing.MemorySeries;
import io.peft4j.core.testing.NativeMemory;
import io.peft4j.core.train.StepMetrics;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingListener;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Structure;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A diagnostic main (not a test): trains the tiny LoRA model of {@link LoraMemoryIT} for many steps and prints, every
 * {@code every} steps after a GC, the live NDArray count, RSS, the committed Java heap, native RSS (RSS minus the
 * heap) and, when the JVM runs with {@code -XX:NativeMemoryTracking=summary}, the memory the JVM itself has committed
 * (so RSS minus that is roughly what libtorch and glibc hold), and glibc's own count of bytes handed out by
 * {@code malloc} and not yet freed ({@code mallinfo2}: {@code uordblks + hblkhd}, through JNA, which DJL brings).
 * With {@code -Dprobe.trim=true} it calls {@code malloc_trim(0)} before each sample. Ends with least-squares slopes
 * over each half of the run. Used to tell allocator growth that settles (RSS rises, malloc'd bytes do not) from a
 * per-step leak (both rise); run with different {@code MALLOC_*} environment variables to compare settings.
 *
 * <p>With {@code it LEAK_KB} as arguments it instead runs {@link LoraMemoryIT}'s plan once with a deliberate leak of
 * {@code LEAK_KB} kB per step and prints the samples, the slope and whether the IT's bound would fail it.
 *
 * <pre>{@code
 * java -XX:NativeMemoryTracking=summary -cp <test classpath> io.peft4j.lora.LoraMemoryProbe 6000 100
 * java -cp <test classpath> io.peft4j.lora.LoraMemoryProbe it 10
 * }</pre>
 */
public final class LoraMemoryProbe {
    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB");

    private LoraMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("it")) {
            LoraMemoryIT.Result r = LoraMemoryIT.run(Integer.parseInt(args[1]));
            System.out.print(r.nativeKb());
            System.out.printf("leak %s kB/step: slope %.2f kB/step, bound %.1f: %s%n", args[1], r.slope(),
                    LoraMemoryIT.BOUND_KB_PER_STEP, r.slope() < LoraMemoryIT.BOUND_KB_PER_STEP ? "passes" : "FAILS");
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
        System.out.println("step,liveArrays,rssKb,heapKb,rssMinusHeapKb,outsideHeapKb,nmtCommittedKb,mallocInUseKb,mallocArenaKb");
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
                            MallInfo2 mi = (MallInfo2) mallinfo2.invoke(MallInfo2.class, new Object[0]);
                            long inUse = (mi.uordblks + mi.hblkhd) >> 10;
                            long rss = ProcessMemory.rssBytes().orElse(0) >> 10;
                            long heap = Runtime.getRuntime().totalMemory() >> 10;
                            long nmt = nmtCommittedKb();
                            long outside = NativeMemory.settledKb();
                            nativeKb.add(s.step(), rss - heap);
                            outsideKb.add(s.step(), outside);
                            inUseKb.add(s.step(), inUse);
                            System.out.printf("%d,%d,%d,%d,%d,%d,%d,%d,%d%n", s.step(), m.getManagedArrays().size(),
                                    rss, heap, rss - heap, outside, nmt, inUse,
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

    /** glibc's {@code struct mallinfo2} (all fields {@code size_t}), returned by value. */
    public static final class MallInfo2 extends Structure implements Structure.ByValue {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;

        @Override
        protected List<String> getFieldOrder() {
            return List.of("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                    "fordblks", "keepcost");
        }
    }

    /** Total memory the JVM has committed per Native Memory Tracking, in kB; -1 when NMT is off. */
    private static long nmtCommittedKb() {
        try {
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            Matcher mt = NMT_TOTAL.matcher(String.valueOf(out));
            return mt.find() ? Long.parseLong(mt.group(1)) : -1;
        } catch (Exception e) {
            return -1;
        }
    }
}
