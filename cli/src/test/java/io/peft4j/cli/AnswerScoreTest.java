package io.peft4j.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AnswerScore} against values worked out by hand (the LCS is written next to each case). */
class AnswerScoreTest {
    @Test
    void rougeL_oneSubstitution_fiveOfSix() {
        // LCS "the cat on the mat" = 5; P = 5/6, R = 5/6, F1 = 5/6
        assertEquals(5.0 / 6, AnswerScore.rougeL("the cat sat on the mat", "the cat lay on the mat"), 1e-12);
    }

    @Test
    void rougeL_differentLengths_harmonicMeanOfPrecisionAndRecall() {
        // answer  = [Paris, is, beautiful]; reference = [the, capital, of, France, is, Paris]
        // LCS = 1 ("Paris" or "is", not both: they appear in opposite orders); P = 1/3, R = 1/6
        // F1 = 2 * (1/3) * (1/6) / (1/3 + 1/6) = (1/9) / (1/2) = 2/9
        assertEquals(2.0 / 9, AnswerScore.rougeL("Paris is beautiful", "the capital of France is Paris"), 1e-12);
        // answer = [A, B, C, D], reference = [A, C, D]: LCS 3, P = 3/4, R = 1, F1 = 2 * 0.75 / 1.75 = 6/7
        assertEquals(6.0 / 7, AnswerScore.rougeL("A B C D", "A C D"), 1e-12);
    }

    @Test
    void rougeL_orderMatters_andWhitespaceRunsAreOneSeparator() {
        // [a, b, c] vs [c, b, a]: LCS 1, P = R = 1/3, F1 = 1/3
        assertEquals(1.0 / 3, AnswerScore.rougeL("a b c", "c b a"), 1e-12);
        assertEquals(1.0, AnswerScore.rougeL("  a \n b\tc ", "a b c"), 1e-12);
        // case is kept: [Paris] vs [paris] share nothing
        assertEquals(0.0, AnswerScore.rougeL("Paris", "paris"), 1e-12);
    }

    @Test
    void rougeL_emptyTexts_oneWhenBothEmpty_elseZero() {
        assertEquals(1.0, AnswerScore.rougeL(" ", ""), 0);
        assertEquals(0.0, AnswerScore.rougeL("", "a"), 0);
        assertEquals(0.0, AnswerScore.rougeL("a", "  "), 0);
        assertEquals(0.0, AnswerScore.rougeL("x y", "a b"), 0);
    }

    @Test
    void lcsLength_classicExample() {
        // ABCBDAB vs BDCABA: LCS length 4 (e.g. BCBA), the textbook case
        assertEquals(4, AnswerScore.lcsLength(List.of("A", "B", "C", "B", "D", "A", "B"),
                List.of("B", "D", "C", "A", "B", "A")));
        assertEquals(0, AnswerScore.lcsLength(List.of(), List.of("A")));
    }

    @Test
    void exactMatch_trimsOnly() {
        assertTrue(AnswerScore.exactMatch(" Paris\n", "Paris"));
        assertFalse(AnswerScore.exactMatch("Paris.", "Paris"));
        assertFalse(AnswerScore.exactMatch("paris", "Paris"));
        assertFalse(AnswerScore.exactMatch("Par is", "Paris"));
    }
}
