package io.peft4j.serve.internal;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How joining rows are grouped for their prefill: by length, so short prompts are not padded to long ones. */
class EngineGroupsTest {
    @Test
    void groups_sortByLength_cutWhereLeftPaddingWouldExceedHalfTheRealTokens() {
        assertEquals(List.of(List.of(8, 8, 9), List.of(40, 40), List.of(120, 120)),
                Engine.groups(List.of(120, 8, 40, 8, 120, 40, 9), Integer::intValue));
        assertEquals(List.of(List.of(5, 6, 7), List.of(30)), Engine.groups(List.of(30, 7, 6, 5), Integer::intValue));
        // 16 positions of slack: a one-token prompt may share a prefill with a 17-token one
        assertEquals(List.of(List.of(1, 17)), Engine.groups(List.of(17, 1), Integer::intValue));
        assertEquals(List.of(), Engine.groups(List.<Integer>of(), Integer::intValue));
    }
}
