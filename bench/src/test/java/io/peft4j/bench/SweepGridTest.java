package io.peft4j.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SweepGrid}: defaults, aliases, order, and one clear message for each kind of bad entry. */
class SweepGridTest {
    @Test
    void defaults_allSeqsRealModelAndBothShapes() {
        SweepGrid g = SweepGrid.parse(null, null, true);
        assertEquals(List.of(128, 256, 512, 1024), g.seqs());
        assertEquals(List.of("real", "smollm2-360m", "tinyllama-1.1b"), g.models());
        assertEquals(12, g.points().size());
        assertEquals(new SweepGrid.Point("real", 128), g.points().get(0));
        assertEquals(new SweepGrid.Point("tinyllama-1.1b", 1024), g.points().get(11));
        assertEquals(List.of("smollm2-360m", "tinyllama-1.1b"), SweepGrid.parse(null, null, false).models());
    }

    @Test
    void seqsSortedAndDeduplicated_aliasesResolved_modelOrderKept() {
        SweepGrid g = SweepGrid.parse(" 512,128 ,512", "1.1b,135m,360m,real", true);
        assertEquals(List.of(128, 512), g.seqs());
        assertEquals(List.of("tinyllama-1.1b", "real", "smollm2-360m"), g.models());
        assertEquals("[tinyllama-1.1b@128, tinyllama-1.1b@512, real@128, real@512, smollm2-360m@128, "
                + "smollm2-360m@512]", g.points().toString());
        assertTrue(g.points().get(2).real());
        assertFalse(g.points().get(0).real());
        assertEquals(List.of("smollm2-360m"), SweepGrid.parse("64", "SmolLM2-360M", false).models());
    }

    @Test
    void badEntries_oneMessageNamingThem() {
        assertEquals("--sweep-seqs: 'abc' is not a whole number",
                assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse("128,abc", null, true))
                        .getMessage());
        assertEquals("--sweep-seqs: seq must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse("0", null, true)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse("128,,256", null, true))
                .getMessage().startsWith("--sweep-seqs: empty entry"));
        assertEquals("--sweep-models: unknown model 'gpt-9' (known: real or 135m for --model, smollm2-360m, "
                + "tinyllama-1.1b)", assertThrows(IllegalArgumentException.class,
                () -> SweepGrid.parse(null, "real,gpt-9", true)).getMessage());
        assertEquals("--sweep-models: 'real' is the --model file, and no --model was given",
                assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse(null, "real", false))
                        .getMessage());
    }

    @Test
    void systems_defaultBoth_subsetInFixedOrder_unknownRejected() {
        assertEquals(List.of("peft4j", "peft"), SweepGrid.parse(null, null, true).systems());
        SweepGrid peftOnly = SweepGrid.parse("128", "360m", "PEFT", false);
        assertEquals(List.of("peft"), peftOnly.systems());
        assertFalse(peftOnly.measures("peft4j"));
        assertEquals(List.of("peft4j", "peft"), SweepGrid.parse("128", "360m", "peft,peft4j", false).systems());
        assertEquals("--sweep-systems: unknown system 'torch' (peft4j, peft)",
                assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse(null, null, "peft4j,torch", true))
                        .getMessage());
    }
}
