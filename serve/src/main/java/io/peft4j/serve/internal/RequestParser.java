package io.peft4j.serve.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.ChatTemplateException;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and checks a completion or chat completion body the way OpenAI's API (and vLLM's server) define the fields;
 * any bad value is a 400 naming the field. Prompts are tokenized here (completions with the tokenizer's special
 * tokens, chat through the chat template without them, as vLLM does) and checked against the context length.
 * Thread-safe.
 */
public final class RequestParser {
    /** Fields OpenAI defines that this server does not implement: refused rather than silently ignored. */
    private static final List<String> UNSUPPORTED = List.of("logprobs", "top_logprobs", "echo", "suffix", "tools",
            "functions", "logit_bias", "response_format");

    private final Tokenizer tokenizer;
    private final ChatTemplate template;     // null: the model has none and no --template was given
    private final int contextLength;
    private final int vocab;

    public RequestParser(Tokenizer tokenizer, ChatTemplate template, int contextLength, int vocab) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.contextLength = contextLength;
        this.vocab = vocab;
    }

    public CompletionRequest parse(JsonNode body, boolean chat, String defaultModel) {
        if (body == null || !body.isObject()) {
            throw ApiError.badParameter(null, "the request body must be a JSON object");
        }
        for (String field : UNSUPPORTED) {
            JsonNode v = body.get(field);
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean()) && !(v.isObject() && v.isEmpty())) {
                throw ApiError.badParameter(field, field + " is not supported by this server");
            }
        }
        String model = optText(body, "model", defaultModel);
        List<int[]> prompts = chat ? List.of(chatPrompt(body)) : prompts(body);
        String promptField = chat ? "messages" : "prompt";
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        if (longest >= contextLength) {
            throw ApiError.badParameter(promptField, "This model's maximum context length is " + contextLength
                    + " tokens. However, your prompt has " + longest + " tokens.");
        }
        String maxField = body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        long maxTokens = optLong(body, maxField, chat ? contextLength - longest : 16);
        if (maxTokens < 1) {
            throw ApiError.badParameter(maxField, maxField + " must be at least 1, got " + maxTokens);
        }
        if (longest + maxTokens > contextLength) {
            throw ApiError.badParameter(maxField, "This model's maximum context length is " + contextLength
                    + " tokens. However, you requested " + (longest + maxTokens) + " tokens (" + longest
                    + " in the " + promptField + ", " + maxTokens + " in the completion).");
        }
        double temperature = range(body, "temperature", 1.0, 0, 2);
        double topP = optDouble(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) {
            throw ApiError.badParameter("top_p", "top_p must be in (0, 1], got " + topP);
        }
        long topK = optLong(body, "top_k", 0);
        if (topK < -1) {
            throw ApiError.badParameter("top_k", "top_k must be -1 (off), 0 (off) or positive, got " + topK);
        }
        long n = optLong(body, "n", 1);
        if (n < 1 || n > 64) {
            throw ApiError.badParameter("n", "n must be between 1 and 64, got " + n);
        }
        JsonNode bestOf = body.get("best_of");
        if (bestOf != null && !bestOf.isNull() && bestOf.asLong() != n && bestOf.asLong() != 1) {
            throw ApiError.badParameter("best_of", "best_of other than n is not supported by this server");
        }
        double repetition = optDouble(body, "repetition_penalty", 1.0);
        if (!(repetition > 0) || Double.isInfinite(repetition)) {
            throw ApiError.badParameter("repetition_penalty", "repetition_penalty must be > 0, got " + repetition);
        }
        long seed = body.hasNonNull("seed") ? optLong(body, "seed", 0) : ThreadLocalRandom.current().nextLong();
        SamplingParams params = new SamplingParams((int) maxTokens, temperature, topP, (int) Math.max(topK, 0),
                seed, stops(body), range(body, "presence_penalty", 0, -2, 2),
                range(body, "frequency_penalty", 0, -2, 2), repetition);
        boolean stream = optBool(body, "stream");
        JsonNode options = body.get("stream_options");
        boolean usage = options != null && options.isObject() && options.path("include_usage").asBoolean(false);
        return new CompletionRequest(model, prompts, params, (int) n, stream, usage, chat);
    }

    /** OpenAI's {@code prompt}: a string, a list of strings, a list of token ids or a list of such lists. */
    private List<int[]> prompts(JsonNode body) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) {
            throw ApiError.badParameter("prompt", "prompt is required");
        }
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(encode(p.asText(), true));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            out.add(ids(p));
        } else if (p.isArray() && !p.isEmpty()) {
            for (JsonNode e : p) {
                if (e.isTextual()) {
                    out.add(encode(e.asText(), true));
                } else if (e.isArray() && !e.isEmpty()) {
                    out.add(ids(e));
                } else {
                    throw ApiError.badParameter("prompt", "prompt must be a string, a list of strings, a list of "
                            + "token ids or a list of lists of token ids");
                }
            }
        } else {
            throw ApiError.badParameter("prompt", "prompt must be a non-empty string or list");
        }
        return out;
    }

    private int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = array.get(i);
            if (!e.isIntegralNumber() || e.asLong() < 0 || e.asLong() >= vocab) {
                throw ApiError.badParameter("prompt", "token ids must be integers in [0, " + vocab + "), got " + e);
            }
            ids[i] = e.asInt();
        }
        return ids;
    }

    private int[] encode(String text, boolean special) {
        int[] ids = tokenizer.encode(text, special);
        if (ids.length == 0) {
            throw ApiError.badParameter("prompt", "the prompt is empty (no tokens)");
        }
        return ids;
    }

    /** OpenAI's {@code messages} rendered through the chat template. */
    private int[] chatPrompt(JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiError.badParameter("messages", "messages must be a non-empty list");
        }
        if (template == null) {
            throw ApiError.badParameter("messages", "this model has no chat template: start the server with "
                    + "--template NAME or use /v1/completions");
        }
        List<Message> list = new ArrayList<>();
        for (JsonNode m : messages) {
            String role = m.path("role").asText("");
            if (!Set.of("system", "user", "assistant", "developer").contains(role)) {
                throw ApiError.badParameter("messages", "message role must be system, developer, user or "
                        + "assistant, got '" + role + "'");
            }
            list.add(new Message("developer".equals(role) ? Message.SYSTEM : role, content(m.get("content"))));
        }
        try {
            return encode(template.render(Conversation.of(list.toArray(new Message[0])), true), false);
        } catch (ChatTemplateException | IllegalArgumentException e) {
            throw ApiError.badParameter("messages", "the chat template refused these messages: " + e.getMessage());
        }
    }

    /** A message's content: a string or a list of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode c) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.badParameter("messages", "only text content parts are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiError.badParameter("messages", "message content must be a string or a list of text parts");
    }

    private static List<String> stops(JsonNode body) {
        JsonNode s = body.get("stop");
        List<String> out = new ArrayList<>();
        if (s == null || s.isNull()) {
            return out;
        }
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray()) {
            s.forEach(e -> out.add(e.isTextual() ? e.asText() : null));
        }
        if (out.isEmpty() && !s.isArray() || out.stream().anyMatch(t -> t == null || t.isEmpty())) {
            throw ApiError.badParameter("stop", "stop must be a non-empty string or a list of non-empty strings");
        }
        return out;
    }

    private static String optText(JsonNode body, String field, String fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw ApiError.badParameter(field, field + " must be a string");
        }
        return v.asText();
    }

    private static long optLong(JsonNode body, String field, long fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < 9e18) {
            return (long) v.asDouble();   // 1e9 is an integer too
        }
        throw ApiError.badParameter(field, field + " must be an integer, got " + v);
    }

    private static double optDouble(JsonNode body, String field, double fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw ApiError.badParameter(field, field + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static double range(JsonNode body, String field, double fallback, double min, double max) {
        double v = optDouble(body, field, fallback);
        if (v < min || v > max) {
            throw ApiError.badParameter(field, field + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    private static boolean optBool(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.badParameter(field, field + " must be true or false");
        }
        return v.asBoolean();
    }
}
