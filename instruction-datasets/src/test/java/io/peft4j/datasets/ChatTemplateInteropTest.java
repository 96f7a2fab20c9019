package io.peft4j.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.datasets.internal.JinjaChatTemplate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every template (SmolLM2's GGUF template, TinyLlama's, the built-ins and a stress template using namespace, loop
 * controls, Python string methods, ternaries and raise_exception) renders exactly what Python transformers renders.
 */
class ChatTemplateInteropTest {
    private final ChatTemplateGolden golden = new ChatTemplateGolden();

    ChatTemplateInteropTest() throws Exception {
    }

    @Test
    void render_syntheticConversations_matchesTransformersExactly() throws Exception {
        List<JsonNode> cases = golden.cases(false);
        assertTrue(cases.size() >= 100, "cases: " + cases.size());
        for (JsonNode c : cases) {
            ChatTemplate t = golden.template(c.get("template").asText());
            Conversation conv = golden.synthetic(c.get("conversation").asText());
            boolean gen = c.get("add_generation_prompt").asBoolean();
            if (c.has("error")) {
                ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(conv, gen),
                        ChatTemplateGolden.describe(c));
                assertTrue(e.getMessage().contains(c.get("error").asText()), e.getMessage());
            } else {
                assertEquals(c.get("expected").asText(), t.render(conv, gen), ChatTemplateGolden.describe(c));
            }
        }
    }

    @Test
    void builtIn_sourceInGolden_isTheShippedResource() {
        for (String name : ChatTemplate.BUILT_IN) {
            assertEquals(golden.root.get("templates").get(name).asText(), JinjaChatTemplate.builtInSource(name), name);
        }
    }

    @Test
    void named_unknownName_listsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.named("gpt-9", golden.tokens));
        assertTrue(e.getMessage().contains("chatml") && e.getMessage().contains("gpt-9"), e.getMessage());
    }

    @Test
    void jinja_syntaxError_isReportedAtConstruction() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.jinja("{% for m in messages %}{{ m.content }", golden.tokens));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());
    }
}
