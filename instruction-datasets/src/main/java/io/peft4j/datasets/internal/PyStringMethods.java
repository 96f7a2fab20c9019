package io.peft4j.datasets.internal;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Python {@code str} methods on Java strings for jinjava's expression language: chat templates call
 * {@code content.strip()}, {@code .lstrip()}, {@code .rstrip()}, {@code .startswith()}, {@code .endswith()},
 * {@code .split()}, {@code .upper()}, {@code .lower()}, {@code .title()}, {@code .capitalize()}, {@code .replace()}
 * with Python semantics (jinjava would otherwise call Java's methods or fail). Other calls fall through.
 * Stateless and thread-safe.
 */
final class PyStringMethods extends ELResolver {
    private static final Set<String> METHODS = Set.of("strip", "lstrip", "rstrip", "startswith", "endswith", "split",
            "upper", "lower", "title", "capitalize", "replace");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String) || method == null || !METHODS.contains(method.toString())) {
            return null;
        }
        Object result = call((String) base, method.toString(), params == null ? new Object[0] : params);
        context.setPropertyResolved(true);
        return result;
    }

    static Object call(String s, String method, Object[] a) {
        switch (method) {
            case "strip": return strip(s, arg(a, 0), true, true);
            case "lstrip": return strip(s, arg(a, 0), true, false);
            case "rstrip": return strip(s, arg(a, 0), false, true);
            case "startswith": return s.startsWith(String.valueOf(a[0]));
            case "endswith": return s.endsWith(String.valueOf(a[0]));
            case "split": return split(s, arg(a, 0));
            case "upper": return s.toUpperCase(Locale.ROOT);
            case "lower": return s.toLowerCase(Locale.ROOT);
            case "title": return title(s);
            case "capitalize": return s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace": return s.replace(String.valueOf(a[0]), String.valueOf(a[1]));
            default: throw new IllegalStateException(method);
        }
    }

    private static String arg(Object[] a, int i) {
        return a.length > i && a[i] != null ? a[i].toString() : null;
    }

    /** Python's strip family: whitespace, or the characters of {@code chars}. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0;
        int e = s.length();
        while (left && b < e && stripped(s.charAt(b), chars)) {
            b++;
        }
        while (right && e > b && stripped(s.charAt(e - 1), chars)) {
            e--;
        }
        return s.substring(b, e);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    /** Python's split: on whitespace runs (dropping empties) without a separator, else on the literal separator. */
    static List<String> split(String s, String sep) {
        if (sep == null) {
            String t = strip(s, null, true, true);
            return t.isEmpty() ? new ArrayList<>() : new ArrayList<>(Arrays.asList(t.split("[\\s\\p{Z}]+")));
        }
        return new ArrayList<>(Arrays.asList(s.split(Pattern.quote(sep), -1)));
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (char c : s.toCharArray()) {
            sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return sb.toString();
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // read-only: never resolves a property
    }
}
