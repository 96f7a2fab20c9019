package io.peft4j.core.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends one JSON object per step ({@code step, loss, lr, grad_norm, tokens, tokens_per_s, elapsed_s}) and per
 * evaluation ({@code step, eval_loss, eval_ppl, eval_tokens}) to a JSONL file, plus the objective's named metrics
 * (trl's keys: {@code rewards/chosen}, ... per step; {@code eval_rewards/chosen}, ... per evaluation). Added automatically by
 * {@link Trainer} when an output dir is set. Close it to flush.
 *
 * <pre>{@code
 * trainer.addListener(new MetricsJsonlWriter(Path.of("run/metrics.jsonl")));
 * }</pre>
 *
 * @since 0.1.0
 */
public final class MetricsJsonlWriter implements TrainingListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsJsonlWriter.class);
    private final Path file;
    private BufferedWriter writer;

    public MetricsJsonlWriter(Path file) {
        this.file = file;
    }

    @Override
    public void onStep(StepMetrics m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("step", m.step()).put("loss", m.loss()).put("lr", m.learningRate()).put("grad_norm", m.gradNorm())
                .put("tokens", m.tokens()).put("tokens_per_s", m.tokensPerSecond()).put("elapsed_s",
                        m.elapsedSeconds());
        m.metrics().forEach(o::put);
        write(o);
    }

    @Override
    public void onEval(EvalMetrics m) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("step", m.step()).put("eval_loss", m.loss()).put("eval_ppl", m.perplexity())
                .put("eval_tokens", m.tokens());
        m.metrics().forEach((k, v) -> o.put("eval_" + k, v));
        write(o);
    }

    private void write(ObjectNode o) {
        try {
            if (writer == null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
                writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
            writer.write(Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature
                    .INDENT_OUTPUT).writeValueAsString(o));
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write metrics", e);
        }
    }

    @Override
    public void close() {
        if (writer != null) {
            try {
                writer.close();
            } catch (IOException e) {
                LOG.warn("closing {} failed: {}", file, e.getMessage());
            }
        }
    }
}
