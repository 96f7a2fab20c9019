package io.peft4j.datasets;

import java.util.Objects;

/**
 * One turn of a conversation: a role ({@code system}, {@code user}, {@code assistant}, or {@code text} for raw
 * pre-training text) and its content, exactly as chat templates see them.
 *
 * <pre>{@code
 * Message q = Message.user("What is 2+2?");
 * Message a = Message.assistant("4");
 * Conversation c = Conversation.of(q, a);
 * }</pre>
 * Immutable and thread-safe.
 *
 * @param role    the role name templates receive as {@code message['role']}
 * @param content the text of the turn (may be empty, never null)
 *
 * @since 0.1.0
 */
public record Message(String role, String content) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    /** Raw text with no template: every token is trained. */
    public static final String TEXT = "text";

    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) {
            throw new IllegalArgumentException("role must not be blank");
        }
    }

    public static Message system(String content) {
        return new Message(SYSTEM, content);
    }

    public static Message user(String content) {
        return new Message(USER, content);
    }

    public static Message assistant(String content) {
        return new Message(ASSISTANT, content);
    }

    public boolean isAssistant() {
        return ASSISTANT.equals(role);
    }
}
