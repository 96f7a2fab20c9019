package io.peft4j.cli;

import io.peft4j.core.train.Example;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The few-shot pieces of {@link InstructionEval}: how shots become turns and which labels stay trained. */
class InstructionEvalTest {
    private static final int I = Example.IGNORE;

    @Test
    void keepLastRuns_dropsEarlierAnswers_keepsTheLastOnes() {
        int[] labels = {I, 5, 6, I, I, 7, I, 8, 9};
        assertArrayEquals(new int[] {I, I, I, I, I, I, I, 8, 9}, InstructionEval.keepLastRuns(labels, 1));
        assertArrayEquals(new int[] {I, I, I, I, I, 7, I, 8, 9}, InstructionEval.keepLastRuns(labels, 2));
        assertArrayEquals(labels, InstructionEval.keepLastRuns(labels, 3));
        assertArrayEquals(new int[] {4, I, I}, InstructionEval.keepLastRuns(new int[] {4, I, I}, 1));
        assertEquals(5, labels[1], "the input is not changed");
    }

    @Test
    void withShots_shotTurnsFirst_inputsFolded_querySystemKeptOnTop() {
        Conversation shot = new Conversation(List.of(Message.system("s0"), Message.user("q0"),
                Message.assistant("a0")), "x0");
        Conversation query = new Conversation(List.of(Message.system("S"), Message.user("q"),
                Message.assistant("a")), "x");
        Conversation c = InstructionEval.withShots(List.of(shot), query);
        assertEquals(List.of(Message.system("S"), Message.user("q0\n\nx0"), Message.assistant("a0"),
                Message.user("q\n\nx"), Message.assistant("a")), c.messages());
        assertEquals("", c.input());
        assertSame(query, InstructionEval.withShots(List.of(), query));
    }
}
