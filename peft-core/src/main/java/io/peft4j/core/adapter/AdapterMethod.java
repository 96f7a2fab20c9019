package io.peft4j.core.adapter;

import io.peft4j.core.model.CausalLM;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * A parameter-efficient fine-tuning method (LoRA, prompt tuning, ...), found through {@link ServiceLoader}: a module
 * registers its implementation with one line in {@code META-INF/services/io.peft4j.core.adapter.AdapterMethod}.
 * peft-core dispatches on {@code peft_type} and never names a method. Implementations are stateless and thread-safe.
 *
 * <pre>{@code
 * AdapterMethod lora = AdapterMethod.forPeftType("LORA");
 * Adapter adapter = lora.attach(model, "default", config, 42L);
 * }</pre>
 *
 * @since 0.1.0
 */
public interface AdapterMethod {

    /** PEFT's {@code peft_type} this method handles, e.g. {@code LORA}. */
    String peftType();

    /** The record type {@code adapter_config.json} of this method deserialises into. */
    Class<? extends AdapterConfig> configType();

    /**
     * Injects a new adapter called {@code name} into {@code model} (replacing projections through
     * {@link CausalLM#replaceLinear} as needed) and returns its handle. Fresh weights are initialised from
     * {@code seed}; the adapter starts inactive.
     *
     * @throws IllegalArgumentException when {@code config} is of another method or selects nothing in {@code model}
     */
    Adapter attach(CausalLM model, String name, AdapterConfig config, long seed);

    /**
     * Checks a saved adapter's tensors against its own config without a base model (what can be known from the file
     * alone: pairs present, ranks as configured, method-specific extra tensors) and returns the problems found, empty
     * when it is consistent. Keys are as saved ({@code base_model.model.<module path>.<tensor>}). The default knows
     * no rules and finds none.
     */
    default List<String> checkTensors(AdapterConfig config, Map<String, long[]> shapes) {
        return List.of();
    }

    /** Every method on the class path. */
    static List<AdapterMethod> all() {
        List<AdapterMethod> out = new ArrayList<>();
        for (AdapterMethod m : ServiceLoader.load(AdapterMethod.class, AdapterMethod.class.getClassLoader())) {
            out.add(m);
        }
        return out;
    }

    /** The method for {@code peftType}; {@link IllegalArgumentException} naming the supported types otherwise. */
    static AdapterMethod forPeftType(String peftType) {
        for (AdapterMethod m : all()) {
            if (m.peftType().equalsIgnoreCase(peftType)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no adapter method for peft_type '" + peftType + "' on the class path"
                + " (supported: " + supportedTypes() + ")");
    }

    /** Comma-separated peft types on the class path, for messages. */
    static String supportedTypes() {
        String s = all().stream().map(AdapterMethod::peftType).collect(Collectors.joining(", "));
        return s.isEmpty() ? "none" : s;
    }
}
