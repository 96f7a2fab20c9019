package io.peft4j.core.tokenizer;

import io.peft4j.core.tokenizer.internal.TokenizerJson;
import io.peft4j.core.tokenizer.internal.TokenizerSettings;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer run by DJL's native HF tokenizers, with special tokens, BOS/EOS
 * and decoding as Python transformers (v5) gives them for the same folder. Truncation and padding are always off
 * (DJL would otherwise silently cut inputs to 512 tokens). Beside {@code tokenizer.json} it reads
 * {@code tokenizer_config.json}, {@code special_tokens_map.json} and {@code chat_template.jinja} when present: the
 * named special tokens, the chat template, and the tokenizer class, whose pipeline transformers rebuilds
 * (LlamaTokenizer: Metaspace pre-tokenizer; GPT2Tokenizer: byte level). Like transformers v5, the
 * {@code add_bos_token}/{@code add_eos_token} flags of the config are ignored when a {@code tokenizer.json} exists;
 * its post-processor decides. Other tokenizer classes are taken from {@code tokenizer.json} as written.
 *
 * <p>Thread-safe: encode and decode may run concurrently; {@link #close()} waits for them and frees the native
 * tokenizer. Using a closed tokenizer throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (Tokenizer tok = HfTokenizer.load(Path.of("llama2-32k"))) {
 *     int[] ids = tok.encode("Hello world", true);          // [1, 15043, 3186]
 *     String text = tok.decode(ids, true);                   // "Hello world"
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class HfTokenizer implements Tokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(HfTokenizer.class);
    private static final Map<String, String> OPTIONS =
            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true");

    static {
        // as Peft4j does: DJL must never try the network (its tokenizer factory "calls home" unless offline)
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private final HuggingFaceTokenizer native_;
    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final int bos;
    private final int eos;
    private final int pad;
    private final String chatTemplate;
    private final String source;
    private final byte[] json; // the tokenizer.json this tokenizer was built from (for save)
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, JsonNode json, byte[] bytes, SpecialTokens specials,
                        String source) {
        this.native_ = tokenizer;
        this.source = source;
        this.json = bytes;
        this.tokenToId = new HashMap<>(TokenizerJson.modelVocab(json));
        for (JsonNode t : json.path("added_tokens")) {
            tokenToId.put(t.path("content").asText(), t.path("id").asInt());
        }
        int size = 0;
        for (int id : tokenToId.values()) {
            size = Math.max(size, id + 1);
        }
        this.idToToken = new String[size];
        for (Map.Entry<String, Integer> e : tokenToId.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        this.bos = idOf(specials.bos());
        this.eos = idOf(specials.eos());
        int padId = idOf(specials.pad());
        this.pad = padId >= 0 ? padId : eos;
        this.chatTemplate = specials.chatTemplate();
    }

    /** The named special tokens and the chat template a tokenizer carries beside its tokenizer.json. */
    record SpecialTokens(String bos, String eos, String pad, String chatTemplate) {
    }

    /**
     * Loads {@code path}: a folder holding {@code tokenizer.json} (and optionally {@code tokenizer_config.json},
     * {@code special_tokens_map.json}, {@code chat_template.jinja}) or the {@code tokenizer.json} file itself.
     *
     * @throws PeftException when the file is missing or not a valid tokenizer.json
     */
    public static HfTokenizer load(Path path) throws PeftException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new PeftException("no tokenizer.json at " + file);
        }
        Path folder = file.toAbsolutePath().getParent();
        TokenizerSettings settings = TokenizerSettings.read(folder);
        ObjectNode json;
        try {
            JsonNode node = Json.MAPPER.readTree(file.toFile());
            if (node == null || !node.isObject() || !node.path("model").isObject()) {
                throw new CheckpointFormatException(file, "not a tokenizer.json (no \"model\" object)");
            }
            json = (ObjectNode) node;
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "unreadable JSON: " + e.getMessage(), e);
        }
        applyTransformersClass(json, settings);
        SpecialTokens specials = new SpecialTokens(settings.bos(), settings.eos(), settings.pad(),
                settings.chatTemplate());
        return fromJson(json, specials, file.toString());
    }

    /** Builds a tokenizer from an in-memory tokenizer.json tree; {@code source} names it in errors. */
    static HfTokenizer fromJson(ObjectNode json, SpecialTokens specials, String source) throws PeftException {
        json.putNull("truncation");
        json.putNull("padding");
        long start = System.nanoTime();
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
        } catch (IOException e) {
            throw new PeftException(source + ": cannot serialize tokenizer.json: " + e.getMessage(), e);
        }
        HuggingFaceTokenizer tokenizer = createNative(bytes, source);
        HfTokenizer result = new HfTokenizer(tokenizer, json, bytes, specials, source);
        LOG.debug("tokenizer {} loaded: {} tokens in {} ms", source, result.vocabSize(),
                (System.nanoTime() - start) / 1_000_000);
        return result;
    }

    private static HuggingFaceTokenizer createNative(byte[] json, String source) throws PeftException {
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new PeftException(source + ": the HF tokenizers library rejected the tokenizer: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code tokenizer.json} and {@code tokenizer_config.json} (special tokens, chat template) into
     * {@code dir}, so {@link #load(Path)} on that folder gives a tokenizer with the same ids.
     */
    @Override
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("tokenizer.json"), json);
        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        putToken(config, "bos_token", bos);
        putToken(config, "eos_token", eos);
        putToken(config, "pad_token", pad);
        if (chatTemplate != null) {
            config.put("chat_template", chatTemplate);
        }
        Json.MAPPER.writeValue(dir.resolve("tokenizer_config.json").toFile(), config);
    }

    private void putToken(ObjectNode config, String field, int id) {
        if (id >= 0 && id < idToToken.length && idToToken[id] != null) {
            config.put(field, idToToken[id]);
        }
    }

    /** Rebuilds the pipeline pieces transformers' tokenizer class defines itself, and adds named specials. */
    private static void applyTransformersClass(ObjectNode json, TokenizerSettings s) {
        String cls = s.tokenizerClass() == null ? "" : s.tokenizerClass().replaceFirst("Fast$", "");
        boolean bpe = "BPE".equals(json.path("model").path("type").asText());
        String unk = s.unk();
        String bos = s.bos();
        String eos = s.eos();
        if (bpe && cls.equals("LlamaTokenizer")) {
            TokenizerJson.llamaPipeline(json, s.addPrefixSpace() == null || s.addPrefixSpace(), s.legacy());
            unk = unk == null ? "<unk>" : unk;
            bos = bos == null ? "<s>" : bos;
            eos = eos == null ? "</s>" : eos;
        } else if (bpe && cls.equals("GPT2Tokenizer")) {
            TokenizerJson.gpt2Pipeline(json, s.addPrefixSpace() != null && s.addPrefixSpace());
            unk = unk == null ? "<|endoftext|>" : unk;
            bos = bos == null ? "<|endoftext|>" : bos;
            eos = eos == null ? "<|endoftext|>" : eos;
        }
        for (String token : new String[] {bos, eos, unk, s.pad()}) {
            TokenizerJson.ensureSpecial(json, token);
        }
        s.extraSpecial().forEach(t -> TokenizerJson.ensureSpecial(json, t));
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        lock.readLock().lock();
        try {
            checkOpen();
            long[] ids = native_.encode(text, addSpecialTokens, false).getIds();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = (int) ids[i];
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= idToToken.length) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + idToToken.length + ") of " + source);
            }
            wide[i] = ids[i];
        }
        lock.readLock().lock();
        try {
            checkOpen();
            return native_.decode(wide, skipSpecialTokens);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public int bosTokenId() {
        return bos;
    }

    @Override
    public int eosTokenId() {
        return eos;
    }

    @Override
    public int padTokenId() {
        return pad;
    }

    @Override
    public String idToToken(int id) {
        return id < 0 || id >= idToToken.length ? null : idToToken[id];
    }

    @Override
    public int tokenToId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                native_.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "HfTokenizer[" + source + ", vocab " + idToToken.length + "]";
    }

    private int idOf(String token) {
        return token == null ? -1 : tokenToId(token);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tokenizer " + source + " is closed");
        }
    }
}
