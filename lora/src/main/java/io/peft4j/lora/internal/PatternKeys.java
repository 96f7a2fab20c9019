package io.peft4j.lora.internal;

import java.util.Collection;
import java.util.regex.Pattern;

/** PEFT's {@code get_pattern_key}: a rank/alpha pattern key applies when {@code (.*\.)?(key)$} matches the path. */
public final class PatternKeys {
    private PatternKeys() {
    }

    /** The first key (in iteration order) whose pattern matches {@code modulePath}, or {@code null}. */
    public static String find(Collection<String> keys, String modulePath) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")$").matcher(modulePath).matches()) {
                return key;
            }
        }
        return null;
    }
}
