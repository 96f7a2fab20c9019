/**
 * Tokenizer internals (not API): building a Hugging Face {@code tokenizer.json} from GGUF metadata (byte-level
 * alphabet, SentencePiece merges, pre-tokenizer splits), reading {@code tokenizer_config.json} settings, and typed
 * reads of GGUF metadata values. The entry types are {@link io.peft4j.core.tokenizer.HfTokenizer} and
 * {@link io.peft4j.core.tokenizer.GgufTokenizer}.
 */
package io.peft4j.core.tokenizer.internal;
