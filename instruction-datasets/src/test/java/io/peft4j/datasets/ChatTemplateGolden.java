package io.peft4j.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.core.Json;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** The expected renders of scripts/interop/chat_template_reference.py (Python transformers' apply_chat_template). */
final class ChatTemplateGolden {
    final JsonNode root;
    final SpecialTokens tokens;

    ChatTemplateGolden() throws IOException {
        try (InputStream in = ChatTemplateGolden.class.getResourceAsStream("/interop/chat_templates.json")) {
            root = Json.MAPPER.readTree(in);
        }
        tokens = new SpecialTokens(root.get("bos_token").asText(), root.get("eos_token").asText());
    }

    ChatTemplate template(String name) throws ChatTemplateException {
        return ChatTemplate.BUILT_IN.contains(name) ? ChatTemplate.named(name, tokens)
                : ChatTemplate.jinja(root.get("templates").get(name).asText(), tokens);
    }

    List<JsonNode> cases(boolean sharegpt) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            if ("sharegpt".equals(c.get("conversation").asText()) == sharegpt) {
                out.add(c);
            }
        }
        return out;
    }

    static Conversation conversation(JsonNode conv) {
        List<Message> messages = new ArrayList<>();
        for (JsonNode m : conv.get("messages")) {
            messages.add(new Message(m.get("role").asText(), m.get("content").asText()));
        }
        return new Conversation(messages, conv.get("input").asText());
    }

    Conversation synthetic(String id) {
        return conversation(root.get("conversations").get(id));
    }

    static String describe(JsonNode c) {
        return c.get("template").asText() + "/" + c.get("conversation").asText() + "/gen="
                + c.get("add_generation_prompt").asBoolean();
    }
}
