package io.peft4j.core.tokenizer.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Edits of a Hugging Face {@code tokenizer.json} tree that reproduce what transformers' tokenizer classes build
 * (the v5 {@code TokenizersBackend} subclasses rebuild normalizer, pre-tokenizer and decoder in their
 * constructors rather than taking them from the file), plus the pieces the GGUF builder assembles.
 */
public final class TokenizerJson {
    public static final String METASPACE = "\u2581";

    private TokenizerJson() {
    }

    /** An empty tokenizer.json skeleton around {@code model}: no truncation, no padding, no normalizer. */
    public static ObjectNode skeleton(ObjectNode model) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putNull("decoder");
        root.set("model", model);
        return root;
    }

    /** A BPE model node; {@code merges} as [left, right] pairs (tokens may contain spaces). */
    public static ObjectNode bpeModel(Map<String, Integer> vocab, List<String[]> merges, boolean byteFallback,
                               boolean fuseUnk, String affix) {
        ObjectNode model = Json.MAPPER.createObjectNode();
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        putNullable(model, "continuing_subword_prefix", affix);
        putNullable(model, "end_of_word_suffix", affix);
        model.put("fuse_unk", fuseUnk);
        model.put("byte_fallback", byteFallback);
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] pair : merges) {
            m.addArray().add(pair[0]).add(pair[1]);
        }
        return model;
    }

    /**
     * transformers' LlamaTokenizer pipeline: no normalizer, Metaspace pre-tokenizer (prefix "always" when legacy,
     * "first" otherwise, "never" without a prefix space), byte-fallback decoder, BPE without an unk token.
     */
    public static void llamaPipeline(ObjectNode root, boolean addPrefixSpace, boolean legacy) {
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Metaspace");
        pre.put("replacement", METASPACE);
        pre.put("prepend_scheme", addPrefixSpace ? (legacy ? "always" : "first") : "never");
        pre.put("split", false);
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "Sequence");
        ArrayNode seq = dec.putArray("decoders");
        ObjectNode replace = seq.addObject();
        replace.put("type", "Replace");
        replace.putObject("pattern").put("String", METASPACE);
        replace.put("content", " ");
        seq.addObject().put("type", "ByteFallback");
        seq.addObject().put("type", "Fuse");
        if (addPrefixSpace) {
            ObjectNode strip = seq.addObject();
            strip.put("type", "Strip");
            strip.put("content", " ");
            strip.put("start", 1);
            strip.put("stop", 0);
        }
        ObjectNode model = (ObjectNode) root.get("model");
        model.putNull("unk_token");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.putNull("dropout");
    }

    /** transformers' GPT2Tokenizer pipeline: byte-level pre-tokenizer (GPT-2 regex) and decoder. */
    public static void gpt2Pipeline(ObjectNode root, boolean addPrefixSpace) {
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(addPrefixSpace, true));
        root.set("decoder", byteLevel(true, true));
        ObjectNode model = (ObjectNode) root.get("model");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.putNull("dropout");
    }

    /** A Split(regex, isolated) then ByteLevel(no regex) pre-tokenizer, as transformers sets for GGUF "pre". */
    public static ObjectNode splitThenByteLevel(String regex) {
        ObjectNode seq = Json.MAPPER.createObjectNode();
        seq.put("type", "Sequence");
        ArrayNode list = seq.putArray("pretokenizers");
        ObjectNode split = list.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        list.add(byteLevel(false, false));
        return seq;
    }

    public static ObjectNode byteLevel(boolean addPrefixSpace, boolean useRegex) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", true);
        node.put("use_regex", useRegex);
        return node;
    }

    /** TemplateProcessing "[bos:0] $A:0 [eos:0]" as transformers' {@code update_post_processor} builds it. */
    public static ObjectNode template(String bos, int bosId, boolean addBos, String eos, int eosId, boolean addEos) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("type", "TemplateProcessing");
        ArrayNode single = node.putArray("single");
        sequence(single, bos, addBos, "A", eos, addEos, 0);
        ArrayNode pair = node.putArray("pair");
        sequence(pair, bos, addBos, "A", eos, addEos, 0);
        sequence(pair, bos, addBos, "B", eos, addEos, 1);
        ObjectNode specials = node.putObject("special_tokens");
        if (addBos) {
            specialEntry(specials, bos, bosId);
        }
        if (addEos) {
            specialEntry(specials, eos, eosId);
        }
        return node;
    }

    /**
     * Adds {@code token} as a special added token (normalized=false) unless it is an added token already, as
     * transformers does for its named special tokens; the id is the vocabulary's, or the next free one.
     */
    public static void ensureSpecial(ObjectNode root, String token) {
        if (token == null) {
            return;
        }
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        int next = 0;
        for (JsonNode t : added) {
            if (token.equals(t.path("content").asText(null))) {
                return;
            }
            next = Math.max(next, t.path("id").asInt() + 1);
        }
        Map<String, Integer> vocab = modelVocab(root);
        Integer id = vocab.get(token);
        if (id == null) {
            for (int v : vocab.values()) {
                next = Math.max(next, v + 1);
            }
            id = next;
        }
        addToken(added, id, token, true);
    }

    public static void addToken(ArrayNode added, int id, String content, boolean special) {
        ObjectNode t = added.addObject();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", special);
    }

    /** token → id of the model's vocabulary (BPE/WordPiece/WordLevel object, or Unigram [token, score] list). */
    public static Map<String, Integer> modelVocab(JsonNode root) {
        JsonNode vocab = root.path("model").path("vocab");
        Map<String, Integer> out = new LinkedHashMap<>();
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asInt()));
        } else if (vocab.isArray()) {
            int i = 0;
            for (JsonNode entry : vocab) {
                out.put(entry.isArray() ? entry.path(0).asText() : entry.asText(), i++);
            }
        }
        return out;
    }

    private static void sequence(ArrayNode target, String bos, boolean addBos, String name, String eos,
                                 boolean addEos, int typeId) {
        if (addBos) {
            special(target, bos, typeId);
        }
        ObjectNode seq = target.addObject().putObject("Sequence");
        seq.put("id", name);
        seq.put("type_id", typeId);
        if (addEos) {
            special(target, eos, typeId);
        }
    }

    private static void special(ArrayNode target, String token, int typeId) {
        ObjectNode s = target.addObject().putObject("SpecialToken");
        s.put("id", token);
        s.put("type_id", typeId);
    }

    private static void specialEntry(ObjectNode specials, String token, int id) {
        ObjectNode e = specials.putObject(token);
        e.put("id", token);
        e.putArray("ids").add(id);
        e.putArray("tokens").add(token);
    }

    private static void putNullable(ObjectNode node, String key, String value) {
        if (value == null) {
            node.putNull(key);
        } else {
            node.put(key, value);
        }
    }
}
