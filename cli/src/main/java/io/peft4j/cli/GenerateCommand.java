package io.peft4j.cli;

import io.peft4j.core.ProcessMemory;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.GenerationResult;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Conversation;
import io.peft4j.datasets.Message;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code peft4j generate --model PATH --prompt TEXT}: continues a prompt, streaming the text unless {@code --json}. */
@Command(name = "generate", description = "Generate text from a prompt (greedy unless --temperature > 0).")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    JsonOption out;

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", required = true, description = "The prompt text, used as given.")
    String prompt;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate at most (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default), else sampling temperature.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens (0 = all).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (1 = all).")
    double topP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "Penalty for repeated tokens (1 = none).")
    double repetitionPenalty;

    @Option(names = "--stop", description = "Stop when this text appears (repeatable).")
    List<String> stops;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (same seed, same text).")
    long seed;

    @Option(names = "--template", description = "Render the prompt as a user turn: 'chat' (the model's own "
            + "chat_template) or a built-in name (alpaca, chatml, llama-2, llama-3, mistral, vicuna, zephyr).")
    String template;

    @Option(names = "--truncate-prompt", description = "Keep only the last tokens of a prompt that leaves no room for "
            + "--max-new-tokens in the model's context window (default: refuse a prompt longer than the window).")
    boolean truncatePrompt;

    @Override
    public Integer call() throws Exception {
        GenerationConfig config = config();
        long start = System.nanoTime();
        try (Peft4jModel loaded = model.load(out, "generate")) {
            out.status("generate: loaded " + model.model.getFileName() + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            TokenListener stream = out.json ? TokenListener.NONE : (row, token, text) -> {
                System.out.print(text);
                System.out.flush();
            };
            String text = template == null ? prompt : ChatTemplate.resolve(template, loaded.chatTemplate(),
                    loaded.tokenizer()).render(Conversation.of(Message.user(prompt)), true);
            GenerationResult r = loaded.generate(List.of(text), config, stream);
            if (!out.json) {
                System.out.println();
            }
            out.status(String.format("generate: %d tokens, %.1f tokens/s", r.generatedTokens(), r.tokensPerSecond()));
            if (out.json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("text", r.texts().get(0));
                result.put("tokens", r.generatedTokens());
                result.put("tokens_per_s", Math.round(r.tokensPerSecond() * 100) / 100.0);
                result.put("peak_rss_mb", ProcessMemory.peakRssBytes().orElse(-1) >> 20);
                out.print(result);
            }
        }
        return 0;
    }

    /** The sampling options as a {@link GenerationConfig}; a bad value is refused naming its flag as typed. */
    private GenerationConfig config() {
        try {
            return GenerationConfig.builder().optMaxNewTokens(maxNewTokens).optTemperature(temperature)
                    .optTopK(topK).optTopP(topP).optRepetitionPenalty(repetitionPenalty).optStopStrings(stops)
                    .optSeed(seed).optTruncatePrompt(truncatePrompt).build();
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            for (Map.Entry<String, String> field : FLAGS.entrySet()) {
                if (message.startsWith(field.getKey() + " ")) {
                    message = field.getValue() + message.substring(field.getKey().length());
                }
            }
            throw new IllegalArgumentException(message + " (see peft4j generate --help)", e);
        }
    }

    /** {@link GenerationConfig} field names (as its messages use them) and the flags that set them. */
    private static final Map<String, String> FLAGS = Map.of("maxNewTokens", "--max-new-tokens",
            "temperature", "--temperature", "topK", "--top-k", "topP", "--top-p",
            "repetitionPenalty", "--repetition-penalty", "stopStrings", "--stop");
}
