package io.peft4j.bench;

import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SweepBenchmark}'s orchestration without a heavy run: the child peft4j and the reference python are shell
 * scripts that record their arguments and print one JSON line, so the test checks what each point asks of each
 * system (one process per point and system, the shape passed to bench_peft.py) and how the rows are labelled.
 */
class SweepBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void eachPointRunsBothSystemsInTheirOwnProcess_withTheSameShape() throws Exception {
        Path calls = tmp.resolve("calls.txt");
        Path child = script("child.sh", "echo \"peft4j $*\" >> " + calls + "\n"
                + "echo 'status line' >&2\necho '{\"step_s\": 2.5, \"tokens_per_s\": 51.2, \"peak_rss_mb\": 1234}'");
        Path python = script("python", "echo \"python $*\" >> " + calls + "\n"
                + "echo '{\"step_s\": 2.0, \"tokens_per_s\": 64.0, \"peak_rss_mb\": 2345, "
                + "\"quantization\": \"nf4-double-quant (bitsandbytes x)\"}'");
        LoraConfig lora = LoraConfig.builder().optR(16).optLoraAlpha(32).optLoraDropout(0)
                .optTargetModules(TargetModules.ALL_LINEAR).build();
        Path gguf = tmp.resolve("Tiny-Model.Q4_1.gguf");
        List<String> status = new ArrayList<>();
        List<Integer> progress = new ArrayList<>();
        List<SweepRow> rows = SweepBenchmark.run(SweepGrid.parse("64,32", "real,360m", true),
                new SweepBenchmark.Settings(lora, gguf, 1, 2, false, 128), List.of(child.toString()),
                PeerScript.of(python), tmp.resolve("logs"), status::add, soFar -> progress.add(soFar.size()));
        assertEquals(8, rows.size(), String.join("\n", status));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), progress, "the rows so far after each row");
        List<String> lines = Files.readAllLines(calls);
        assertEquals(8, lines.size());
        assertEquals("peft4j bench train --model " + gguf + " --batch 1 --seq 32 --steps 2 --loss-chunk 128 --r 16 "
                + "--alpha 32.0 --dropout 0.0 --target-modules all-linear --no-reference --json", lines.get(0));
        assertTrue(lines.get(1).matches("python .*/scripts/interop/bench_peft.py --model " + gguf
                + " --batch 1 --seq 32 --steps 2 --threads 2 --r 16 .*--target-modules all-linear"), lines.get(1));
        assertTrue(lines.get(5).endsWith("bench_peft.py --synthetic smollm2-360m --layers 32 --hidden 960 "
                + "--intermediate 2560 --heads 15 --kv-heads 5 --vocab 49152 --rope-theta 100000.0 --rms-eps 1.0E-5 "
                + "--tied --batch 1 --seq 32 --steps 2 --threads 2 --r 16 --alpha 32.0 --dropout 0.0 "
                + "--target-modules all-linear --gradient-checkpointing"), lines.get(5));
        assertTrue(lines.get(4).startsWith("peft4j bench train --synthetic smollm2-360m --batch 1 --seq 32"));
        SweepRow ours = rows.get(0);
        assertEquals("peft4j,Tiny-Model.Q4_1,32,1,2.500,51.200,1234,false,none (fp32)", ours.toCsv()
                .substring(0, ours.toCsv().lastIndexOf(',')));
        SweepRow theirs = rows.get(5);
        assertEquals("peft,synthetic:smollm2-360m,32,1,2.000,64.000,2345,true,nf4-double-quant (bitsandbytes x)",
                theirs.toCsv().substring(0, theirs.toCsv().lastIndexOf(',')));
        assertEquals("nf4-double-quant", rows.get(4).quantization());
        assertEquals(64, rows.get(2).seq());
        assertEquals("status line", Files.readString(tmp.resolve("logs/peft4j-smollm2-360m-seq64.log")).strip());
    }

    @Test
    void peftOnlyGrid_startsNoPeft4jChild() throws Exception {
        Path calls = tmp.resolve("calls.txt");
        Path child = script("child.sh", "echo \"peft4j $*\" >> " + calls);
        Path python = script("python", "echo \"python $*\" >> " + calls + "\n"
                + "echo '{\"step_s\": 2.0, \"tokens_per_s\": 64.0, \"peak_rss_mb\": 2345}'");
        LoraConfig lora = LoraConfig.builder().optR(8).optTargetModules(TargetModules.ALL_LINEAR).build();
        List<SweepRow> rows = SweepBenchmark.run(SweepGrid.parse("16", "1.1b", "peft", false),
                new SweepBenchmark.Settings(lora, null, 2, 1, false, 0), List.of(child.toString()),
                PeerScript.of(python), tmp.resolve("logs"), s -> { });
        assertEquals(1, rows.size());
        assertEquals("peft,synthetic:tinyllama-1.1b,16,2,2.000,64.000,2345,true,none (fp32)",
                rows.get(0).toCsv().substring(0, rows.get(0).toCsv().lastIndexOf(',')));
        List<String> lines = Files.readAllLines(calls);
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).contains("--synthetic tinyllama-1.1b --layers 22 --hidden 2048 --intermediate 5632 "
                + "--heads 32 --kv-heads 4 --vocab 32000 --rope-theta 10000.0"), lines.get(0));
        assertTrue(!lines.get(0).contains("--tied"), lines.get(0));
    }

    private Path script(String name, String body) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}
