package io.peft4j.datasets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every record shape, container and field mapping; and a corpus of broken files, each with its own message. */
class DatasetReaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    private static Dataset read(Path p) throws Exception {
        return DatasetReader.builder().setPath(p).build().readAll();
    }

    private static DatasetFormatException fails(Path p) {
        return assertThrows(DatasetFormatException.class, () -> read(p));
    }

    @Test
    void readAll_eachShape_mapsToConversations() throws Exception {
        Dataset alpaca = read(write("a.jsonl", "{\"instruction\":\"I\",\"input\":\"X\",\"output\":\"O\"}\n"));
        assertEquals(RecordShape.ALPACA, alpaca.shape());
        assertEquals(new Conversation(List.of(Message.user("I"), Message.assistant("O")), "X"), alpaca.records().get(0));
        Dataset dolly = read(write("d.jsonl", "{\"instruction\":\"I\",\"context\":\"C\",\"response\":\"R\",\"category\":\"qa\"}"));
        assertEquals(new Conversation(List.of(Message.user("I"), Message.assistant("R")), "C"), dolly.records().get(0));
        Dataset share = read(write("s.json", "{\"system\":\"S\",\"conversations\":[{\"from\":\"human\",\"value\":\"H\"},"
                + "{\"from\":\"gpt\",\"value\":\"G\"}]}"));
        assertEquals(Conversation.of(Message.system("S"), Message.user("H"), Message.assistant("G")),
                share.records().get(0));
        Dataset msgs = read(write("m.jsonl", "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                + "{\"role\":\"user\",\"content\":\"U\"},{\"role\":\"assistant\",\"content\":\"A\"}]}"));
        assertEquals(RecordShape.MESSAGES, msgs.shape());
        assertEquals(3, msgs.records().get(0).messages().size());
        Dataset pc = read(write("p.jsonl", "{\"prompt\":\"P\",\"completion\":\"C\"}"));
        assertEquals(Conversation.of(Message.user("P"), Message.assistant("C")), pc.records().get(0));
        Dataset text = read(write("t.jsonl", "{\"text\":\"raw\"}"));
        assertTrue(text.records().get(0).isPlainText());
        Dataset gsm = read(write("g.jsonl", "{\"question\":\"Q\",\"answer\":\"A\"}"));
        assertEquals(RecordShape.PROMPT_COMPLETION, gsm.shape());
        assertEquals(Conversation.of(Message.user("Q"), Message.assistant("A")), gsm.records().get(0));
    }

    @Test
    void readAll_jsonArrayPrettyAndGzip_sameRecords() throws Exception {
        String rec = "{\"instruction\":\"I%d\",\"output\":\"O%d\"}";
        Path array = write("arr.json", "[\n  " + String.format(rec, 1, 1) + ",\n  " + String.format(rec, 2, 2) + "\n]\n");
        Path gz = dir.resolve("arr.jsonl.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write((String.format(rec, 1, 1) + "\n\n" + String.format(rec, 2, 2) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(read(array).records(), read(gz).records());
        assertEquals(2, read(gz).size());
    }

    @Test
    void readAll_fieldMapping_readsRenamedFields() throws Exception {
        Path p = write("q.jsonl", "{\"q\":\"Question\",\"a\":\"Answer\"}\n");
        FieldNames names = FieldNames.DEFAULT.with("instruction", "q").with("output", "a");
        Dataset d = DatasetReader.builder().setPath(p).optFieldNames(names).build().readAll();
        assertEquals(RecordShape.ALPACA, d.shape());
        assertEquals(Conversation.of(Message.user("Question"), Message.assistant("Answer")), d.records().get(0));
    }

    @Test
    void read_badJsonMidFile_namesLineAndRecord() throws Exception {
        Path p = write("bad.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":\"b\"}\n"
                + "\n{\"instruction\":\"a\",\"output\": }\n{\"instruction\":\"a\",\"output\":\"b\"}\n");
        DatasetFormatException e = fails(p);
        assertEquals(4, e.line());
        assertEquals(2, e.recordIndex());
        assertTrue(e.getMessage().startsWith(p + ":4 (record 2): invalid JSON at column"), e.getMessage());
    }

    @Test
    void read_badJsonInArray_namesLine() throws Exception {
        Path p = write("bad.json", "[\n{\"instruction\":\"a\",\"output\":\"b\"},\n{\"instruction\":\"a\",\n"
                + "\"output\":\"b\" \"x\"}\n]");
        DatasetFormatException e = fails(p);
        assertEquals(4, e.line());
        assertTrue(e.getMessage().contains("invalid JSON"), e.getMessage());
    }

    @Test
    void read_missingField_namesFieldAndLine() throws Exception {
        Path p = write("missing.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"input\":\"c\"}\n");
        DatasetFormatException e = fails(p);
        assertEquals(2, e.line());
        assertEquals("output", e.field());
        assertEquals(p + ":2 (record 1): field 'output': missing", e.getMessage());
    }

    @Test
    void read_wrongType_namesFieldTypeAndLine() throws Exception {
        Path p = write("type.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":\"b\"}\n"
                + "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":42}\n");
        DatasetFormatException e = fails(p);
        assertEquals(p + ":4 (record 3): field 'output': must be a string, was number", e.getMessage());
    }

    @Test
    void read_badShareGptTurn_namesNestedField() throws Exception {
        Path p = write("share.jsonl", "{\"conversations\":[{\"from\":\"human\",\"value\":\"h\"},"
                + "{\"from\":\"robot\",\"value\":\"g\"}]}\n");
        DatasetFormatException e = fails(p);
        assertEquals("conversations[1].from", e.field());
        assertTrue(e.getMessage().contains("unknown role 'robot'"), e.getMessage());
        Path noAnswer = write("share2.jsonl", "{\"conversations\":[{\"from\":\"human\",\"value\":\"h\"}]}\n");
        assertTrue(fails(noAnswer).getMessage().contains("no assistant turn"));
        Path notList = write("share3.jsonl", "{\"conversations\":\"hi\"}\n");
        assertTrue(fails(notList).getMessage().endsWith("field 'conversations': must be a list of turns, was string"));
    }

    @Test
    void read_emptyOrBlankFile_saysNoRecords() throws Exception {
        for (Path p : List.of(write("empty.jsonl", ""), write("blank.jsonl", "\n  \n"), write("empty.json", "[]"))) {
            DatasetFormatException e = fails(p);
            assertEquals(p + ": no records (empty dataset)", e.getMessage());
        }
    }

    @Test
    void read_unknownShapeOrNonObject_explains() throws Exception {
        assertTrue(fails(write("u.jsonl", "{\"foo\":1}\n")).getMessage().contains("cannot tell the record shape from keys [foo]"));
        assertTrue(fails(write("n.jsonl", "\"x\"\n")).getMessage().contains("record must be a JSON object, was string"));
        assertTrue(fails(write("n.json", "[1,2]\n")).getMessage().contains("(record 0): record must be a JSON object, was number"));
    }

    @Test
    void read_skipBadRecords_countsAndKeepsGoodOnes() throws Exception {
        Path p = write("mixed.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{broken\n{\"instruction\":\"a\"}\n"
                + "{\"instruction\":\"a\",\"output\":7}\n{\"instruction\":\"c\",\"output\":\"d\"}\n");
        Dataset d = DatasetReader.builder().setPath(p).optSkipBadRecords(true).build().readAll();
        assertEquals(2, d.size());
        assertEquals(3, d.badRecords());
    }

    @Test
    void read_allBadWithSkipping_saysAllBadWithFirstError() throws Exception {
        Path p = write("allbad.jsonl", "{\"instruction\":\"a\"}\n{\"instruction\":\"b\"}\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> DatasetReader.builder().setPath(p).optShape(RecordShape.ALPACA).optSkipBadRecords(true).build()
                        .readAll());
        assertTrue(e.getMessage().contains("all 2 records are bad; first: " + p + ":1 (record 0): field 'output'"),
                e.getMessage());
    }

    @Test
    void open_streamsOneRecordAtATime() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            sb.append("{\"prompt\":\"p").append(i).append("\",\"completion\":\"c\"}\n");
        }
        try (RecordStream s = DatasetReader.builder().setPath(write("many.jsonl", sb.toString())).build().open()) {
            assertEquals("p0", s.read().messages().get(0).content());
            assertEquals(RecordShape.PROMPT_COMPLETION, s.shape());
            int n = 1;
            while (s.read() != null) {
                n++;
            }
            assertEquals(1000, n);
            assertEquals(1000, s.goodRecords());
        }
    }

    @Test
    void open_missingFile_throwsNoSuchFile() {
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> DatasetReader.builder().setPath(dir.resolve("nope.jsonl")).build().open());
    }
}
