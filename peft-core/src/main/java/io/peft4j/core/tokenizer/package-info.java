/**
 * Tokenizers: the {@link io.peft4j.core.tokenizer.Tokenizer} interface, {@link io.peft4j.core.tokenizer.HfTokenizer}
 * for a Hugging Face {@code tokenizer.json} folder (run by DJL's native HF tokenizers) and
 * {@link io.peft4j.core.tokenizer.GgufTokenizer}, which builds the equivalent tokenizer from a GGUF file's
 * {@code tokenizer.ggml.*} metadata. Both give the token ids Python transformers gives for the same files.
 *
 * <pre>{@code
 * try (Tokenizer tok = HfTokenizer.load(Path.of("llama2-32k"))) {
 *     int[] ids = tok.encode("Hello world", true);
 * }
 * }</pre>
 * Package-private helpers: {@code TokenizerJson} (tokenizer.json edits mirroring transformers' tokenizer classes),
 * {@code TokenizerSettings} (tokenizer_config.json / special_tokens_map.json), {@code GgufMetadata},
 * {@code SentencePieceMerges}, {@code ByteLevelAlphabet}, {@code PreTokenizerSplits}.
 */
package io.peft4j.core.tokenizer;
