package io.peft4j.serve;

import java.nio.file.Path;

/**
 * How an {@link OpenAiServer} listens and schedules. Built with {@link #builder()}; every field has vLLM's default
 * where vLLM has one.
 *
 * <pre>{@code
 * ServeConfig config = ServeConfig.builder().optPort(0).optMaxBatch(8).optApiKey("secret").build();
 * }</pre>
 *
 * @param host                interface to bind (127.0.0.1: this machine only)
 * @param port                TCP port (0: any free port, see {@link OpenAiServer#port()})
 * @param maxBatch            rows decoded together at most
 * @param maxQueue            choices waiting to join the batch at most; beyond that requests get 429
 * @param apiKey              when set, every route but {@code /health} needs {@code Authorization: Bearer KEY}
 * @param allowAdapterUpdates serve {@code /v1/load_lora_adapter} and {@code /v1/unload_lora_adapter}
 * @param adapterRoot         when set, {@code lora_path} must resolve inside this folder
 * @param maxRequestBytes     largest request body accepted (larger: 413)
 */
public record ServeConfig(String host, int port, int maxBatch, int maxQueue, String apiKey,
                          boolean allowAdapterUpdates, Path adapterRoot, long maxRequestBytes) {

    public ServeConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        if (maxQueue < 1) {
            throw new IllegalArgumentException("maxQueue must be >= 1, got " + maxQueue);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("apiKey must not be blank when set");
        }
        if (maxRequestBytes < 1024) {
            throw new IllegalArgumentException("maxRequestBytes must be >= 1024, got " + maxRequestBytes);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder: 127.0.0.1:8000, batch 16, queue 256, no key, no adapter updates, 4 MB bodies. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8000;
        private int maxBatch = 16;
        private int maxQueue = 256;
        private String apiKey;
        private boolean allowAdapterUpdates;
        private Path adapterRoot;
        private long maxRequestBytes = 4L << 20;

        public Builder optHost(String v) {
            host = v;
            return this;
        }

        public Builder optPort(int v) {
            port = v;
            return this;
        }

        public Builder optMaxBatch(int v) {
            maxBatch = v;
            return this;
        }

        public Builder optMaxQueue(int v) {
            maxQueue = v;
            return this;
        }

        public Builder optApiKey(String v) {
            apiKey = v;
            return this;
        }

        public Builder optAllowAdapterUpdates(boolean v) {
            allowAdapterUpdates = v;
            return this;
        }

        public Builder optAdapterRoot(Path v) {
            adapterRoot = v;
            return this;
        }

        public Builder optMaxRequestBytes(long v) {
            maxRequestBytes = v;
            return this;
        }

        public ServeConfig build() {
            return new ServeConfig(host, port, maxBatch, maxQueue, apiKey, allowAdapterUpdates, adapterRoot,
                    maxRequestBytes);
        }
    }
}
