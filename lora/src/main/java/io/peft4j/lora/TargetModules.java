package io.peft4j.lora;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * PEFT's {@code target_modules} / {@code exclude_modules}: a list of module names (a module matches when its path
 * equals a name or ends with {@code "." + name}), a regular expression matched against the whole path, or the
 * keyword {@code all-linear} (every linear projection except the output layer).
 *
 * <pre>{@code
 * TargetModules t = TargetModules.of("q_proj", "v_proj");
 * boolean hit = t.matches("model.layers.0.self_attn.q_proj");   // true
 * TargetModules all = TargetModules.ALL_LINEAR;
 * }</pre>
 *
 * @param names module names, or {@code null} when {@code regex} is set
 * @param regex full-match pattern (or {@code all-linear}), or {@code null} when {@code names} is set
 *
 * @since 0.1.0
 */
public record TargetModules(List<String> names, String regex) {
    /** PEFT's {@code "all-linear"} shorthand. */
    public static final TargetModules ALL_LINEAR = new TargetModules(null, "all-linear");

    public TargetModules {
        if ((names == null) == (regex == null)) {
            throw new IllegalArgumentException("target modules: give either names or a regex, got names=" + names
                    + " regex=" + regex);
        }
        if (names != null) {
            names = List.copyOf(names);
        }
        if (regex != null && !regex.equals("all-linear")) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("target modules: invalid regex '" + regex + "': "
                        + e.getDescription());
            }
        }
    }

    public static TargetModules of(String... names) {
        return new TargetModules(List.of(names), null);
    }

    public static TargetModules regex(String regex) {
        return new TargetModules(null, regex);
    }

    /**
     * From the command-line form: {@code all-linear}, {@code re:<regex>}, or comma-separated module names (blanks
     * around names and empty entries ignored).
     */
    public static TargetModules parse(String text) {
        if (text.equals("all-linear")) {
            return ALL_LINEAR;
        }
        if (text.startsWith("re:")) {
            return regex(text.substring(3));
        }
        return new TargetModules(java.util.Arrays.stream(text.split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList(), null);
    }

    /** From PEFT JSON: a list of strings, a string, or null. */
    @JsonCreator
    public static TargetModules fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return new TargetModules(null, node.asText());
        }
        if (node.isArray()) {
            List<String> out = new ArrayList<>();
            node.forEach(n -> {
                if (!n.isTextual()) {
                    throw new IllegalArgumentException("target modules: list entries must be strings, got " + n);
                }
                out.add(n.asText());
            });
            return new TargetModules(out, null);
        }
        throw new IllegalArgumentException("target modules must be a list of names or a regex string, got " + node);
    }

    @JsonValue
    public Object toJson() {
        return names != null ? names : regex;
    }

    public boolean isAllLinear() {
        return "all-linear".equals(regex);
    }

    /** PEFT's rule: a string is a full-match regex; a list matches equal paths or {@code .name} suffixes. */
    public boolean matches(String modulePath) {
        if (regex != null) {
            return !isAllLinear() && Pattern.matches(regex, modulePath);
        }
        for (String n : names) {
            if (modulePath.equals(n) || modulePath.endsWith("." + n)) {
                return true;
            }
        }
        return false;
    }
}
