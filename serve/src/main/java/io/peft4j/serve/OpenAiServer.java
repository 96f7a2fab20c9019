package io.peft4j.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.peft4j.core.model.CausalLM;
import io.peft4j.serve.internal.AdapterCatalog;
import io.peft4j.serve.internal.AdminHandler;
import io.peft4j.serve.internal.ApiError;
import io.peft4j.serve.internal.CompletionHandler;
import io.peft4j.serve.internal.Engine;
import io.peft4j.serve.internal.EngineMetrics;
import io.peft4j.serve.internal.RequestParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * An OpenAI-compatible HTTP server over one frozen base model and its adapters, with vLLM's conventions for LoRA:
 * {@code GET /v1/models}, {@code POST /v1/completions}, {@code POST /v1/chat/completions} (the {@code model} field
 * picks the base or an adapter), {@code POST /v1/load_lora_adapter} / {@code /v1/unload_lora_adapter} (when
 * allowed), {@code GET /health} and {@code GET /metrics} (Prometheus). Requests for any mix of adapters are decoded
 * together by one continuous-batching scheduler thread. Errors are OpenAI's error JSON.
 *
 * <p>Lifecycle: {@link #start} binds and starts serving; {@link #close} stops accepting, fails what is still queued
 * (503) and stops the scheduler. The {@link ServedModel} is not closed. Thread-safe.
 *
 * <pre>{@code
 * try (OpenAiServer server = OpenAiServer.start(new ServedModel("base", peft, tokenizer, template),
 *         ServeConfig.builder().optPort(0).build())) {
 *     server.loadAdapter("sql", Path.of("adapters/sql"));
 *     URI uri = server.uri();   // http://127.0.0.1:PORT
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);

    private final ServedModel served;
    private final ServeConfig config;
    private final ObjectMapper json = new ObjectMapper();
    private final EngineMetrics metrics = new EngineMetrics();
    private final AdapterCatalog catalog;
    private final Engine engine;
    private final Javalin app;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private OpenAiServer(ServedModel served, ServeConfig config) {
        this.served = served;
        this.config = config;
        CausalLM base = served.peft().base();
        int context = base.config().maxPositions();
        int vocab = base.config().vocabSize();
        this.catalog = new AdapterCatalog(served.peft().registry(), served.name(), config.adapterRoot());
        this.engine = new Engine(served.peft().registry(), padId(), config.maxBatch(), config.maxQueue(), metrics,
                s -> catalog.release(s.adapter()));
        RequestParser parser = new RequestParser(served.tokenizer(), served.chatTemplate(), context, vocab);
        CompletionHandler completions = new CompletionHandler(json, parser, catalog, engine, metrics,
                served.tokenizer(), eosIds(), vocab);
        AdminHandler admin = new AdminHandler(json, catalog, metrics, config.allowAdapterUpdates(), served.name(),
                context, Instant.now().getEpochSecond());
        this.app = Javalin.create(cfg -> {
            cfg.jetty.host = config.host();
            cfg.jetty.port = config.port();
            cfg.http.maxRequestSize = config.maxRequestBytes();
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.routes.before(this::authorize);
            cfg.routes.get("/health", admin::health);
            cfg.routes.get("/metrics", admin::metrics);
            cfg.routes.get("/v1/models", admin::models);
            cfg.routes.post("/v1/completions", ctx -> completions.handle(ctx, false));
            cfg.routes.post("/v1/chat/completions", ctx -> completions.handle(ctx, true));
            cfg.routes.post("/v1/load_lora_adapter", admin::load);
            cfg.routes.post("/v1/unload_lora_adapter", admin::unload);
            cfg.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiError(e.getStatus(),
                    "invalid_request_error", null, null, e.getMessage())));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, new ApiError(500, "server_error", null, null, "internal error: " + e));
            });
        });
    }

    /** Binds {@code config.host():config.port()} and serves {@code served} until {@link #close}. */
    public static OpenAiServer start(ServedModel served, ServeConfig config) {
        return start(served, config, Map.of());
    }

    /**
     * {@link #start(ServedModel, ServeConfig)} after loading {@code adapters} (name to PEFT adapter folder), so they
     * are served from the first request.
     *
     * @throws IllegalArgumentException naming the adapter that cannot be loaded
     */
    public static OpenAiServer start(ServedModel served, ServeConfig config, Map<String, Path> adapters) {
        OpenAiServer server = new OpenAiServer(served, config);
        try {
            adapters.forEach(server::loadAdapter);
            server.app.start();
        } catch (RuntimeException e) {
            server.engine.close();
            throw e;
        }
        LOG.info("serving '{}' on {} (max batch {}, queue {}, {} adapters)", served.name(), server.uri(),
                config.maxBatch(), config.maxQueue(), server.catalog.adapters().size());
        return server;
    }

    /** Loads a PEFT adapter folder and serves it as {@code name} (whatever {@code allowAdapterUpdates} says). */
    public void loadAdapter(String name, Path dir) {
        try {
            catalog.load(name, dir.toAbsolutePath().toString());
        } catch (ApiError e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The port bound (useful with port 0). */
    public int port() {
        return app.port();
    }

    public java.net.URI uri() {
        return java.net.URI.create("http://" + config.host() + ":" + port());
    }

    private void authorize(Context ctx) {
        if (config.apiKey() == null || "/health".equals(ctx.path())) {
            return;
        }
        String header = ctx.header("Authorization");
        String given = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                config.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                    header == null ? "Missing API key: send 'Authorization: Bearer KEY'" : "Incorrect API key");
        }
    }

    private void error(Context ctx, ApiError e) {
        metrics.error(e.status());
        ctx.status(e.status()).contentType("application/json").result(e.toJson().toString());
    }

    private int padId() {
        int pad = served.tokenizer().padTokenId();
        if (pad < 0) {
            pad = served.peft().base().config().eosTokenId();
        }
        return Math.max(pad, 0);
    }

    /** What ends a choice: the model's and the tokenizer's EOS (as the library's Generator uses). */
    private Set<Integer> eosIds() {
        Set<Integer> eos = new LinkedHashSet<>();
        if (served.peft().base().config().eosTokenId() >= 0) {
            eos.add(served.peft().base().config().eosTokenId());
        }
        if (served.tokenizer().eosTokenId() >= 0) {
            eos.add(served.tokenizer().eosTokenId());
        }
        return eos;
    }

    /** Stops listening, fails queued and running choices with 503 and stops the scheduler. */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        app.stop();
        engine.close();
        LOG.info("server on port {} stopped", config.port());
    }
}
