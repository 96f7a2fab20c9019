package io.peft4j.datasets.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.DatasetFormatException;
import io.peft4j.datasets.FieldNames;
import io.peft4j.datasets.Message;
import io.peft4j.datasets.RecordShape;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Maps one JSON record of a known {@link RecordShape} to a {@link Conversation}. Thread-safe. */
public final class RecordMapper {
    private final RecordShape shape;
    private final FieldNames names;
    private final String file;

    public RecordMapper(RecordShape shape, FieldNames names, String file) {
        this.shape = shape;
        this.names = names;
        this.file = file;
    }

    public Conversation map(RawRecord rec) throws DatasetFormatException {
        JsonNode node = rec.node();
        if (!node.isObject()) {
            throw error(rec, null, "record must be a JSON object, was " + kind(node));
        }
        switch (shape) {
            case ALPACA:
                return single(rec, text(rec, node, "instruction", true), text(rec, node, "input", false),
                        text(rec, node, "output", true));
            case DOLLY:
                return single(rec, text(rec, node, "instruction", true), text(rec, node, "context", false),
                        text(rec, node, "response", true));
            case PROMPT_COMPLETION:
                return single(rec, text(rec, node, "prompt", true), "", text(rec, node, "completion", true));
            case TEXT:
                return Conversation.text(text(rec, node, "text", true));
            case SHAREGPT:
                return turns(rec, node, "conversations", "from", "value");
            case MESSAGES:
                return turns(rec, node, "messages", "role", "content");
            default:
                throw new IllegalStateException("unhandled shape " + shape);
        }
    }

    private static Conversation single(RawRecord rec, String prompt, String input, String response) {
        return new Conversation(List.of(Message.user(prompt), Message.assistant(response)), input);
    }

    private Conversation turns(RawRecord rec, JsonNode node, String listField, String roleField, String contentField)
            throws DatasetFormatException {
        String listName = names.get(listField);
        JsonNode list = node.get(listName);
        if (list == null || list.isNull()) {
            throw error(rec, listName, "missing");
        }
        if (!list.isArray()) {
            throw error(rec, listName, "must be a list of turns, was " + kind(list));
        }
        List<Message> messages = new ArrayList<>();
        String system = text(rec, node, "system", false);
        if (!system.isEmpty()) {
            messages.add(Message.system(system));
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode turn = list.get(i);
            String where = listName + "[" + i + "]";
            if (!turn.isObject()) {
                throw error(rec, where, "must be an object, was " + kind(turn));
            }
            String role = role(rec, text(rec, turn, where, roleField, true), where + "." + names.get(roleField));
            messages.add(new Message(role, text(rec, turn, where, contentField, true)));
        }
        if (messages.stream().noneMatch(Message::isAssistant)) {
            throw error(rec, listName, "no assistant turn to train on (" + list.size() + " turns)");
        }
        return new Conversation(messages, "");
    }

    private String role(RawRecord rec, String raw, String field) throws DatasetFormatException {
        switch (raw.toLowerCase(Locale.ROOT)) {
            case "human": case "user":
                return Message.USER;
            case "gpt": case "assistant": case "chatgpt": case "bard": case "bing": case "model":
                return Message.ASSISTANT;
            case "system":
                return Message.SYSTEM;
            default:
                throw error(rec, field, "unknown role '" + raw + "' (expected human/user, gpt/assistant or system)");
        }
    }

    private String text(RawRecord rec, JsonNode obj, String canonical, boolean required) throws DatasetFormatException {
        return text(rec, obj, null, canonical, required);
    }

    private String text(RawRecord rec, JsonNode obj, String parent, String canonical, boolean required)
            throws DatasetFormatException {
        String name = names.get(canonical);
        String field = parent == null ? name : parent + "." + name;
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            if (required) {
                throw error(rec, field, "missing");
            }
            return "";
        }
        if (!v.isTextual()) {
            throw error(rec, field, "must be a string, was " + kind(v));
        }
        return v.asText();
    }

    private DatasetFormatException error(RawRecord rec, String field, String problem) {
        return new DatasetFormatException(file, rec.line(), rec.index(), field, problem);
    }

    static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
