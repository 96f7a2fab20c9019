package io.peft4j.lora;

import java.util.Collection;
import java.util.regex.Pattern;

/** PEFT's {@code get_pattern_key}: a rank/alpha pattern key applies when {@code (.*\.)?(key)$} matches the path. */
final class PatternKeys {
    private PatternKeys() {
    }

    static String find(Collection<String> keys, String modulePath) {
        for (String key : keys) {
            if (Pattern.compile("(.*\\.)?(" + key + ")$").matcher(modulePath).matches()) {
                return key;
            }
        }
        return null;
    }
}
