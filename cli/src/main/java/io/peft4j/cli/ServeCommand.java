package io.peft4j.cli;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.model.CausalLM;
import io.peft4j.core.model.ModelFamilies;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.SpecialTokens;
import io.peft4j.quant.QuantizedCheckpoints;
import io.peft4j.serve.OpenAiServer;
import io.peft4j.serve.ServeConfig;
import io.peft4j.serve.ServedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code peft4j serve --model PATH [--adapter NAME=DIR ...]}: wires the options to {@link OpenAiServer} and serves
 * until the process is stopped (Ctrl-C closes the server).
 */
@Command(name = "serve", description = "OpenAI-compatible multi-adapter HTTP server (vLLM's LoRA routes).")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Option(names = "--model", required = true, description = "A .gguf file or a Hugging Face model folder.")
    Path model;

    @Option(names = "--quantize", defaultValue = "auto", description = "How to hold the projections: auto "
            + "(default: a GGUF file keeps its Q4_0/Q4_1/Q8_0 blocks, which small-batch decode reads directly; "
            + "anything else as stored), none (fp32), nf4, fp4, int8 or gguf.")
    String quantize;

    @Option(names = "--adapter", description = "NAME=DIR: serve the PEFT adapter folder DIR as model NAME "
            + "(repeatable).")
    List<String> adapters;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Interface to bind (default "
            + "${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--max-batch", defaultValue = "16", description = "Rows decoded together at most (default "
            + "${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue", defaultValue = "256", description = "Waiting choices at most; more get 429 "
            + "(default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--api-key", description = "Require 'Authorization: Bearer KEY' on every route but /health.")
    String apiKey;

    @Option(names = "--allow-adapter-updates", description = "Serve /v1/load_lora_adapter and "
            + "/v1/unload_lora_adapter.")
    boolean allowUpdates;

    @Option(names = "--adapter-root", description = "lora_path of /v1/load_lora_adapter must resolve inside DIR.")
    Path adapterRoot;

    @Option(names = "--template", description = "Chat template for /v1/chat/completions: 'chat' (the model's own, "
            + "the default when it has one) or a built-in name (alpaca, chatml, llama-2, llama-3, mistral, vicuna, "
            + "zephyr).")
    String template;

    @Override
    public Integer call() throws Exception {
        check(maxBatch >= 1, "--max-batch must be >= 1, got " + maxBatch);
        check(maxQueue >= 1, "--max-queue must be >= 1, got " + maxQueue);
        check(port >= 0 && port <= 65535, "--port must be in [0, 65535], got " + port);
        check(apiKey == null || !apiKey.isBlank(), "--api-key must not be blank");
        check(adapterRoot == null || java.nio.file.Files.isDirectory(adapterRoot),
                "--adapter-root is not a folder: " + adapterRoot);
        ServeConfig config = ServeConfig.builder().optHost(host).optPort(port).optMaxBatch(maxBatch)
                .optMaxQueue(maxQueue).optApiKey(apiKey).optAllowAdapterUpdates(allowUpdates)
                .optAdapterRoot(adapterRoot).build();
        Map<String, Path> named = adapters();
        try (Checkpoint ckpt = QuantizedCheckpoints.open(model); NDManager manager = Peft4j.newManager();
             CausalLM lm = ModelFamilies.load(ckpt.config(), ckpt.tensors(),
                     QuantizedCheckpoints.linearFactory(ckpt, quantize), manager);
             PeftModel peft = PeftModel.wrap(lm)) {
            ChatTemplate chat = template(ckpt);
            ServedModel served = new ServedModel(model.toString(), peft, ckpt.tokenizer(), chat);
            CountDownLatch stopped = new CountDownLatch(1);
            try (OpenAiServer server = OpenAiServer.start(served, config, named)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    server.close();
                    stopped.countDown();
                }));
                out.status("serve: " + model.getFileName() + " with " + named.size() + " adapters on " + server.uri()
                        + (chat == null ? " (no chat template: /v1/chat/completions refused)" : "")
                        + "; Ctrl-C stops");
                stopped.await();
            }
        }
        return 0;
    }

    private ChatTemplate template(Checkpoint ckpt) throws Exception {
        if (template != null) {
            return ChatTemplate.resolve(template, ckpt.chatTemplate(), ckpt.tokenizer());
        }
        var own = ckpt.chatTemplate().or(() -> ckpt.tokenizer().chatTemplate());
        return own.isPresent() ? ChatTemplate.jinja(own.get(), SpecialTokens.of(ckpt.tokenizer())) : null;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message + " (see peft4j serve --help)");
        }
    }

    private Map<String, Path> adapters() {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String a : adapters == null ? List.<String>of() : adapters) {
            String[] kv = a.split("=", 2);
            if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
                throw new IllegalArgumentException("--adapter must be NAME=DIR, got '" + a + "' (see peft4j serve --help)");
            }
            if (out.put(kv[0].trim(), Path.of(kv[1].trim())) != null) {
                throw new IllegalArgumentException("--adapter: the name '" + kv[0].trim() + "' is given twice");
            }
        }
        return out;
    }
}
