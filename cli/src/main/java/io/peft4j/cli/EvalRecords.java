package io.peft4j.cli;

import io.peft4j.core.PeftException;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.FieldNames;
import io.peft4j.datasets.RecordShape;
import io.peft4j.datasets.RecordStream;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The records {@code peft4j eval} scores on its instruction path and the few-shot records put before them, read
 * before the model loads so bad data fails fast. {@code --few-shot K} takes the first K records of
 * {@code --few-shot-data} when given, else the first K records of {@code --data}, which are then not scored (a
 * record never sees its own answer in its prompt).
 *
 * <pre>{@code
 * EvalRecords r = EvalRecords.read(Path.of("val.jsonl"), FieldNames.DEFAULT, 2, null, false, true);
 * int scored = r.scored().size();   // all records but the first two
 * }</pre>
 *
 * @param shape  the record shape of {@code --data}
 * @param scored the records scored
 * @param shots  the few-shot records (empty for zero-shot)
 */
record EvalRecords(RecordShape shape, List<Conversation> scored, List<Conversation> shots) {

    /**
     * Reads {@code data} as instruction records, or returns null when it is plain text (not JSON / JSONL, or
     * records of the {@code text} shape) and nothing asks for the instruction path ({@code forced}: a template,
     * {@code --few-shot} or {@code --generate} was given).
     */
    static EvalRecords read(Path data, FieldNames names, int fewShot, Path fewShotData, boolean forced,
                            boolean generate) throws IOException, PeftException {
        if (!forced && !holdsInstructionRecords(data, names)) {
            return null;
        }
        Dataset d = DatasetReader.builder().setPath(data).optFieldNames(names).build().readAll();
        if (d.shape() == RecordShape.TEXT && (generate || fewShot > 0)) {
            throw new IllegalArgumentException(data + " holds plain-text records ('text'): --generate and "
                    + "--few-shot need instruction records with an answer (alpaca, messages, ...)");
        }
        List<Conversation> records = d.records();
        List<Conversation> shots = List.of();
        if (fewShot > 0) {
            if (fewShotData != null) {
                List<Conversation> pool = DatasetReader.builder().setPath(fewShotData).optFieldNames(names).build()
                        .readAll().records();
                if (pool.size() < fewShot) {
                    throw new IllegalArgumentException("--few-shot " + fewShot + ": " + fewShotData + " holds only "
                            + pool.size() + " records");
                }
                shots = pool.subList(0, fewShot);
            } else {
                if (records.size() <= fewShot) {
                    throw new IllegalArgumentException("--few-shot " + fewShot + " takes the first " + fewShot
                            + " records of " + data + ", which holds only " + records.size()
                            + " (give --few-shot-data FILE)");
                }
                shots = records.subList(0, fewShot);
                records = records.subList(fewShot, records.size());
            }
            for (int i = 0; i < shots.size(); i++) {
                List<io.peft4j.datasets.Message> turns = shots.get(i).messages();
                if (!turns.get(turns.size() - 1).isAssistant()) {
                    throw new IllegalArgumentException("--few-shot: record " + i + " of "
                            + (fewShotData != null ? fewShotData : data) + " has no answer to show");
                }
            }
        }
        return new EvalRecords(d.shape(), List.copyOf(records), List.copyOf(shots));
    }

    /**
     * Whether {@code data} is JSON / JSONL whose first record is not of the {@code text} shape. A file whose first
     * record does not parse is left to the plain-text reader, which names the line at fault.
     */
    private static boolean holdsInstructionRecords(Path data, FieldNames names) {
        String name = data.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.matches(".*\\.jsonl?(\\.gz)?")) {
            return false;
        }
        try (RecordStream s = DatasetReader.builder().setPath(data).optFieldNames(names).build().open()) {
            return s.read() != null && s.shape() != RecordShape.TEXT;
        } catch (IOException | PeftException | RuntimeException e) {
            return false;
        }
    }
}
