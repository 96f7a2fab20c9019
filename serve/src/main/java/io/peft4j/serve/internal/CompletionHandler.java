package io.peft4j.serve.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.peft4j.core.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: validates the body, queues one
 * {@link Sequence} per prompt and choice, and answers with one JSON object or, with {@code stream}, OpenAI's
 * server-sent event chunks ending with {@code data: [DONE]}. A client that goes away cancels its rows: a streaming
 * one is found when the next chunk cannot be written, a non-streaming one by a {@code ConnectionProbe} each time the
 * handler wakes (after every decode step that gave it text, or every 100 ms while it waits). Runs on Jetty's request
 * threads; thread-safe.
 */
public final class CompletionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(CompletionHandler.class);
    /** How long a non-streaming handler waits for an event before it probes its connection anyway. */
    private static final long PROBE_MS = 100;

    private final ObjectMapper json;
    private final RequestParser parser;
    private final AdapterCatalog catalog;
    private final Engine engine;
    private final EngineMetrics metrics;
    private final Tokenizer tokenizer;
    private final Set<Integer> eos;
    private final int vocab;

    public CompletionHandler(ObjectMapper json, RequestParser parser, AdapterCatalog catalog, Engine engine,
                             EngineMetrics metrics, Tokenizer tokenizer, Set<Integer> eos, int vocab) {
        this.json = json;
        this.parser = parser;
        this.catalog = catalog;
        this.engine = engine;
        this.metrics = metrics;
        this.tokenizer = tokenizer;
        this.eos = Set.copyOf(eos);
        this.vocab = vocab;
    }

    public void handle(Context ctx, boolean chat) throws IOException, InterruptedException {
        JsonNode body;
        try {
            body = json.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            throw ApiError.badParameter(null, "the body is not valid JSON: " + e.getMessage().split("\n")[0]);
        }
        CompletionRequest req = parser.parse(body, chat, catalog.baseName());
        BlockingQueue<Sequence.Event> events = new LinkedBlockingQueue<>();
        List<Sequence> rows = new ArrayList<>();
        List<String> acquired = new ArrayList<>();
        try {
            for (int p = 0; p < req.prompts().size(); p++) {
                for (int i = 0; i < req.n(); i++) {
                    String adapter = catalog.acquire(req.model());
                    acquired.add(adapter);
                    rows.add(new Sequence(rows.size(), adapter, req.prompts().get(p), req.params().withSeed(
                            req.params().seed() + i), eos, tokenizer, vocab, events));
                }
            }
            engine.submit(rows);
        } catch (ApiError e) {
            acquired.forEach(catalog::release);   // nothing was queued
            throw e;
        }
        metrics.request(req.model());
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        if (req.stream()) {
            stream(ctx, req, rows, events, id, created);
        } else {
            respond(ctx, req, rows, events, id, created);
        }
    }

    private void respond(Context ctx, CompletionRequest req, List<Sequence> rows, BlockingQueue<Sequence.Event> events,
                         String id, long created) throws IOException, InterruptedException {
        StringBuilder[] texts = new StringBuilder[rows.size()];
        String[] finish = new String[rows.size()];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = new StringBuilder();
        }
        int open = rows.size();
        ConnectionProbe probe = ConnectionProbe.of(ctx.req());
        try {
            while (open > 0) {
                // every wake-up (a step's tokens, or PROBE_MS without any) probes the connection once
                for (Sequence.Event e = events.poll(PROBE_MS, TimeUnit.MILLISECONDS); e != null; e = events.poll()) {
                    if (e.error() != null) {
                        throw e.error();
                    }
                    texts[e.choice()].append(e.text());
                    if (e.finishReason() != null) {
                        finish[e.choice()] = e.finishReason();
                        open--;
                    }
                }
                if (open > 0 && probe.clientGone()) {   // the client closed: cancel now, not at max_tokens
                    LOG.debug("client of {} closed its connection; cancelling {} choices", id, open);
                    return;                                 // (finally cancels the rows; nothing to answer)
                }
            }
        } finally {
            rows.forEach(Sequence::cancel);   // no-op for finished rows; frees the rest if we leave early
        }
        ObjectNode root = header(req, id, created, req.chat() ? "chat.completion" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < texts.length; i++) {
            ObjectNode c = choices.addObject();
            c.put("index", i);
            if (req.chat()) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", texts[i].toString());
            } else {
                c.put("text", texts[i].toString());
            }
            c.putNull("logprobs");
            c.put("finish_reason", finish[i]);
        }
        root.set("usage", usage(rows, req.n()));
        ctx.contentType("application/json").result(json.writeValueAsBytes(root));
    }

    private void stream(Context ctx, CompletionRequest req, List<Sequence> rows, BlockingQueue<Sequence.Event> events,
                        String id, long created) throws InterruptedException {
        ctx.res().setStatus(200);
        ctx.res().setContentType("text/event-stream");
        ctx.res().setCharacterEncoding("utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        String object = req.chat() ? "chat.completion.chunk" : "text_completion";
        int open = rows.size();
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (req.chat()) {
                for (int i = 0; i < rows.size(); i++) {
                    ObjectNode role = chunk(req, id, created, object, i, null);
                    ((ObjectNode) role.get("choices").get(0).get("delta")).put("role", "assistant").put("content", "");
                    send(out, role);
                }
            }
            while (open > 0) {
                Sequence.Event e = events.poll(1, TimeUnit.SECONDS);
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));   // an SSE comment: finds
                    out.flush();                                                        // a client that left
                    continue;
                }
                if (e.error() != null) {
                    ObjectNode err = e.error().toJson();
                    send(out, err);
                    break;
                }
                if (!e.text().isEmpty() || e.finishReason() != null) {
                    send(out, chunk(req, id, created, object, e.choice(), e));
                }
                open -= e.finishReason() != null ? 1 : 0;
            }
            if (req.includeUsage()) {
                ObjectNode last = header(req, id, created, object);
                last.putArray("choices");
                last.set("usage", usage(rows, req.n()));
                send(out, last);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException gone) {   // the client closed the connection: free its rows
            rows.forEach(Sequence::cancel);
        } finally {
            rows.forEach(Sequence::cancel);
        }
    }

    private ObjectNode chunk(CompletionRequest req, String id, long created, String object, int index,
                             Sequence.Event e) {
        ObjectNode root = header(req, id, created, object);
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", index);
        if (req.chat()) {
            ObjectNode delta = c.putObject("delta");
            if (e != null && !e.text().isEmpty()) {
                delta.put("content", e.text());
            }
        } else {
            c.put("text", e == null ? "" : e.text());
        }
        c.putNull("logprobs");
        c.put("finish_reason", e == null ? null : e.finishReason());
        return root;
    }

    private ObjectNode header(CompletionRequest req, String id, long created, String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", req.model());
        return root;
    }

    /** OpenAI's usage: each prompt counted once, every choice's tokens. */
    private ObjectNode usage(List<Sequence> rows, int n) {
        int prompt = 0;
        int completion = 0;
        for (int i = 0; i < rows.size(); i++) {
            Sequence s = rows.get(i);
            completion += s.generatedTokens();
            prompt += i % n == 0 ? s.promptTokens() : 0;
        }
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    private void send(OutputStream out, JsonNode node) throws IOException {
        out.write(("data: " + json.writeValueAsString(node) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
