package io.peft4j.core.tokenizer;

import io.peft4j.core.tokenizer.internal.ByteLevelAlphabet;
import io.peft4j.core.tokenizer.internal.GgufMetadata;
import io.peft4j.core.tokenizer.internal.PreTokenizerSplits;
import io.peft4j.core.tokenizer.internal.SentencePieceMerges;
import io.peft4j.core.tokenizer.internal.TokenizerJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.PeftException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the tokenizer a GGUF file describes in its {@code tokenizer.ggml.*} metadata, equal (same ids, same
 * decoding) to what Python transformers builds for {@code AutoTokenizer.from_pretrained(dir, gguf_file=name)}:
 * {@code "gpt2"} is byte-level BPE with the file's merges (pre-tokenizer regex chosen by {@code tokenizer.ggml.pre});
 * {@code "llama"} is SentencePiece BPE whose merges are derived from the token scores when the file has none.
 * Control tokens become special added tokens, user-defined tokens plain added tokens; BOS/EOS/pad/unk come from
 * their ids; {@code add_bos_token} defaults to true for "llama" and false otherwise. Other tokenizer models
 * (t5, gemma, phi3 sentencepiece variants) are refused with a message naming them.
 *
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(path);
 *      Tokenizer tok = GgufTokenizer.fromMetadata(gguf.metadata(), path.toString())) {
 *     int[] ids = tok.encode("<|im_start|>user\nHi<|im_end|>", true);   // [1, 4093, 198, 26843, 2]
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GgufTokenizer {
    private static final String P = "tokenizer.ggml.";
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;
    private static final Set<String> OWN_SENTENCEPIECE_BUILDERS = Set.of("gemma", "gemma2", "gemma3", "phi3");

    private GgufTokenizer() {
    }

    /**
     * @param metadata GGUF key/value metadata (strings, numbers, booleans, lists or primitive arrays)
     * @param source   names the file in error messages
     * @throws PeftException when a required field is missing or malformed, or the tokenizer model is unsupported
     */
    public static HfTokenizer fromMetadata(Map<String, Object> metadata, String source) throws PeftException {
        GgufMetadata md = new GgufMetadata(metadata, source);
        String model = md.string(P + "model", null);
        if (model == null) {
            throw md.error(P + "model", "missing: the file has no tokenizer");
        }
        List<String> tokens = md.strings(P + "tokens");
        int[] types = md.ints(P + "token_type", tokens.size());
        String arch = md.string("general.architecture", "");
        ObjectNode json;
        boolean addBosDefault;
        if (model.equals("gpt2")) {
            json = byteLevel(md, tokens);
            addBosDefault = false;
        } else if (model.equals("llama") && !OWN_SENTENCEPIECE_BUILDERS.contains(arch)) {
            json = sentencePiece(md, tokens);
            addBosDefault = true;
        } else {
            throw md.error(P + "model", "unsupported tokenizer model '" + model + "' (architecture '" + arch
                    + "'); supported: gpt2 (byte-level BPE), llama (SentencePiece BPE)");
        }
        addGgufTokens(json, tokens, types, model.equals("gpt2"));
        String bos = md.token(P + "bos_token_id", tokens);
        String eos = md.token(P + "eos_token_id", tokens);
        String unk = md.token(P + "unknown_token_id", tokens);
        String pad = md.token(P + "padding_token_id", tokens);
        for (String t : new String[] {bos, eos, unk, pad}) {
            TokenizerJson.ensureSpecial(json, t);
        }
        boolean addBos = md.bool(P + "add_bos_token", addBosDefault) && bos != null;
        boolean addEos = md.bool(P + "add_eos_token", false) && eos != null;
        Map<String, Integer> ids = idsOf(json);
        json.set("post_processor", TokenizerJson.template(bos, bos == null ? -1 : ids.get(bos), addBos,
                eos, eos == null ? -1 : ids.get(eos), addEos));
        String template = md.string("tokenizer.chat_template", null);
        return HfTokenizer.fromJson(json, new HfTokenizer.SpecialTokens(bos, eos, pad, template), source);
    }

    /** transformers' {@code byte_level_tokenizer}: GPT2Tokenizer over the respelled vocabulary. */
    private static ObjectNode byteLevel(GgufMetadata md, List<String> tokens) throws PeftException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            vocab.put(ByteLevelAlphabet.spelledInAlphabet(t) ? t : ByteLevelAlphabet.spell(t), i);
        }
        List<String[]> merges = fileMerges(md);
        if (merges == null) {
            throw md.error(P + "merges", "missing: a gpt2 (byte-level BPE) tokenizer needs its merges");
        }
        ObjectNode json = TokenizerJson.skeleton(TokenizerJson.bpeModel(vocab, merges, false, false, ""));
        TokenizerJson.gpt2Pipeline(json, false);
        String regex = PreTokenizerSplits.regexFor(md.string(P + "pre", null));
        if (regex != null) {
            json.set("pre_tokenizer", TokenizerJson.splitThenByteLevel(regex));
        }
        for (int i = 0; i < 3; i++) {
            TokenizerJson.ensureSpecial(json, "<|endoftext|>"); // GPT2Tokenizer's default unk/bos/eos
        }
        return json;
    }

    /** transformers' {@code sentencepiece_tokenizer}: LlamaTokenizer over the vocabulary, merges from scores. */
    private static ObjectNode sentencePiece(GgufMetadata md, List<String> tokens) throws PeftException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
        }
        List<String[]> merges = fileMerges(md);
        if (merges == null) {
            float[] scores = md.floats(P + "scores", tokens.size());
            Map<String, Double> byToken = new LinkedHashMap<>();
            for (int i = 0; i < tokens.size(); i++) {
                byToken.put(tokens.get(i), (double) scores[i]);
            }
            merges = SentencePieceMerges.generate(vocab, byToken);
        }
        ObjectNode json = TokenizerJson.skeleton(TokenizerJson.bpeModel(vocab, merges, true, true, null));
        TokenizerJson.llamaPipeline(json, true, false);
        for (String t : new String[] {"<s>", "</s>", "<unk>"}) {
            TokenizerJson.ensureSpecial(json, t); // LlamaTokenizer's defaults
        }
        return json;
    }

    private static List<String[]> fileMerges(GgufMetadata md) throws PeftException {
        if (!md.has(P + "merges")) {
            return null;
        }
        List<String> raw = md.strings(P + "merges");
        List<String[]> merges = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            String[] pair = raw.get(i).split(" ", -1);
            if (pair.length != 2) {
                throw md.error(P + "merges", "entry " + i + " '" + raw.get(i) + "' is not two tokens");
            }
            merges.add(pair);
        }
        return merges;
    }

    /** Control tokens as special added tokens (byte-level: only those spelled in the byte alphabet), then
     * user-defined tokens present in the vocabulary as plain added tokens, as transformers does. */
    private static void addGgufTokens(ObjectNode json, List<String> tokens, int[] types, boolean byteLevel) {
        if (types == null) {
            return;
        }
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (types[i] == CONTROL && (!byteLevel || ByteLevelAlphabet.spelledInAlphabet(t))) {
                putAdded(json, t, true);
            }
        }
        Map<String, Integer> known = idsOf(json);
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == USER_DEFINED && known.containsKey(tokens.get(i))) {
                putAdded(json, tokens.get(i), false);
            }
        }
    }

    /** Adds an added token, or re-flags the existing one with the same content (HF tokenizers' add_tokens). */
    private static void putAdded(ObjectNode json, String content, boolean special) {
        ArrayNode added = (ArrayNode) json.get("added_tokens");
        for (JsonNode t : added) {
            if (content.equals(t.path("content").asText(null))) {
                ((ObjectNode) t).put("special", special);
                ((ObjectNode) t).put("normalized", false);
                return;
            }
        }
        if (special) {
            TokenizerJson.ensureSpecial(json, content);
        } else {
            TokenizerJson.addToken(added, idsOf(json).get(content), content, false);
        }
    }

    private static Map<String, Integer> idsOf(ObjectNode json) {
        Map<String, Integer> ids = TokenizerJson.modelVocab(json);
        for (JsonNode t : json.path("added_tokens")) {
            ids.put(t.path("content").asText(), t.path("id").asInt());
        }
        return ids;
    }
}
