package io.peft4j.serve.internal;

import java.util.List;

/**
 * A validated {@code /v1/completions} or {@code /v1/chat/completions} body.
 *
 * @param model        the requested model as named by the client
 * @param prompts      tokenized prompts (one for chat; a completion may send several)
 * @param params       sampling settings of choice 0 (choice {@code i} uses seed + i)
 * @param n            choices per prompt
 * @param stream       answer as server-sent events
 * @param includeUsage {@code stream_options.include_usage}: a last chunk carries the usage
 * @param chat         a chat completion (message deltas) rather than a text completion
 */
public record CompletionRequest(String model, List<int[]> prompts, SamplingParams params, int n, boolean stream,
                                boolean includeUsage, boolean chat) {

    public CompletionRequest {
        prompts = List.copyOf(prompts);
    }
}
