package io.peft4j.datasets.internal;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What Hugging Face chat templates use from Python Jinja2 and jinjava lacks or does differently: the
 * {@code raise_exception} and {@code strftime_now} globals, Python {@code str} methods ({@link PyStringMethods}),
 * transformers' environment settings ({@code trim_blocks}, {@code lstrip_blocks}) and Jinja2's default of dropping
 * one trailing newline of the template source. Loop controls, {@code namespace}, {@code loop.last} and
 * {@code |trim} work in jinjava as they are (checked by ChatTemplateInteropTest). Public only because jinjava
 * invokes the template functions reflectively.
 */
public final class JinjaShims {
    private JinjaShims() {
    }

    /** Prefix of the template error {@code raise_exception(msg)} records; the message follows it. */
    static final String RAISED = "raise_exception: ";

    /** Recorded (not thrown: jinjava would hide the message) as a fatal error by {@code raise_exception}. */
    static final class TemplateRaised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaised(String message) {
            super(RAISED + message);
        }
    }

    private static final Pattern STRIP_BEFORE = Pattern.compile("\\s+(\\{[{%#]-)");
    private static final Pattern STRIP_AFTER = Pattern.compile("(-[}%#]\\})\\s+");

    /**
     * The source as Jinja2 would see it: whitespace next to the trimming tag markers (an opening brace pair with a
     * minus, or a minus before a closing pair) removed up front, because jinjava does not apply a trimming
     * expression tag after a block tag under lstrip_blocks; and Jinja2's keep_trailing_newline=False (one
     * trailing newline dropped).
     */
    static String rewrite(String source) {
        String s = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        s = STRIP_BEFORE.matcher(s).replaceAll("$1");
        return STRIP_AFTER.matcher(s).replaceAll("$1");
    }

    /** Called by templates as {@code raise_exception('message')}. */
    public static String raiseException(String message) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        if (interpreter == null) {
            throw new TemplateRaised(message);
        }
        interpreter.addError(TemplateError.fromException(new TemplateRaised(message)));
        return "";
    }

    /** Called by templates as {@code strftime_now('%d %b %Y')}: today's date, supporting %d %b %B %m %Y %y. */
    public static String strftimeNow(String format) {
        LocalDate d = LocalDate.now();
        String out = format.replace("%d", String.format(Locale.ROOT, "%02d", d.getDayOfMonth()))
                .replace("%m", String.format(Locale.ROOT, "%02d", d.getMonthValue()))
                .replace("%Y", Integer.toString(d.getYear()))
                .replace("%y", String.format(Locale.ROOT, "%02d", d.getYear() % 100));
        return out.replace("%B", d.format(DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH)))
                .replace("%b", d.format(DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH)));
    }

    /** A jinjava configured like transformers' chat-template environment, with the shims registered. */
    static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        Jinjava j = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withNestedInterpretationEnabled(false).withFailOnUnknownTokens(false).withElResolver(resolver)
                .build());
        try {
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    JinjaShims.class.getMethod("raiseException", String.class)));
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    JinjaShims.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        return j;
    }
}
