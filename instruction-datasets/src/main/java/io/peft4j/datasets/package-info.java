/**
 * Instruction datasets for fine-tuning: read JSON / JSONL files of several shapes into {@link
 * io.peft4j.datasets.Conversation}s ({@link io.peft4j.datasets.DatasetReader}), render them with a built-in or the
 * model's own Jinja chat template ({@link io.peft4j.datasets.ChatTemplate}), tokenize them with label masks that
 * train only the responses ({@link io.peft4j.datasets.ExampleEncoder} to {@link
 * io.peft4j.datasets.TrainingExample}), then truncate, pack ({@link io.peft4j.datasets.Packing}), pad and batch
 * into the trainer's {@link io.peft4j.core.train.TrainingBatch} ({@link io.peft4j.datasets.Batching}) and split
 * ({@link io.peft4j.datasets.Split}) deterministically.
 *
 * <pre>{@code
 * Dataset d = DatasetReader.builder().setPath(Path.of("alpaca.json")).build().readAll();
 * ExampleEncoder enc = ExampleEncoder.builder().setTokenizer(tok)
 *         .setTemplate(ChatTemplate.named("alpaca", SpecialTokens.of(tok))).optMaxSeqLen(512).build();
 * List<TrainingExample> rows = Packing.pack(enc.encodeAll(d.records()).examples(), 512, tok.padTokenId());
 * }</pre>
 * Malformed files raise {@link io.peft4j.datasets.DatasetFormatException} naming file, line and field.
 */
package io.peft4j.datasets;
