package io.peft4j.core.model.llama;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.checkpoint.Checkpoint;
import io.peft4j.core.checkpoint.Checkpoints;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.Generator;
import io.peft4j.core.testing.TestResources;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real SmolLM2-135M-Instruct answers a chat question correctly with greedy decoding. */
class LlamaRealModelIT {
    static final String CHAT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n";

    @Test
    void generate_capitalOfFranceChat_answersParis() throws Exception {
        try (Checkpoint ckpt = Checkpoints.open(TestResources.testModel());
             NDManager m = Peft4j.newManager();
             LlamaModel model = LlamaModel.load(ckpt.config(), ckpt.tensors(), m)) {
            String answer = new Generator(model, ckpt.tokenizer())
                    .generate(CHAT, GenerationConfig.builder().optMaxNewTokens(24).build());
            assertTrue(answer.contains("Paris"), answer);
        }
    }
}
