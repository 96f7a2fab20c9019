package io.peft4j.spark;

import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.adapter.Provenance;
import io.peft4j.core.generate.GenerationConfig;
import io.peft4j.core.generate.TokenListener;
import io.peft4j.core.pretrained.Peft4jModel;
import io.peft4j.core.tokenizer.Tokenizer;
import io.peft4j.core.train.Example;
import io.peft4j.core.train.LrSchedule;
import io.peft4j.core.train.Trainer;
import io.peft4j.core.train.TrainerConfig;
import io.peft4j.core.train.TrainingResult;
import io.peft4j.datasets.ChatTemplate;
import io.peft4j.datasets.Dataset;
import io.peft4j.datasets.DatasetReader;
import io.peft4j.datasets.ExampleEncoder;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;

import java.nio.file.Path;
import java.util.List;

/**
 * The single-process reference, written out independently of the Spark module's code: {@code peft4j finetune}'s
 * body (LoRA, no packing, no resume) and {@code peft4j generate --adapter}'s body, step by step through the
 * public API with the command's defaults.
 */
final class SingleProcess {
    private SingleProcess() {
    }

    /** {@code peft4j finetune --model MODEL --data DATA --output OUT --max-steps S --lr LR --batch-size B ...}. */
    static TrainingResult finetune(Path model, Path data, Path output, int maxSteps, double lr, int batchSize,
                                   int maxSeqLen) throws Exception {
        try (Peft4jModel loaded = Peft4jModel.builder().setPath(model).optQuantization("none").build()) {
            PeftModel peft = loaded.peft();
            Tokenizer tok = loaded.tokenizer();
            String template = loaded.chatTemplate().isPresent() ? "chat" : "alpaca";
            Dataset d = DatasetReader.builder().setPath(data).build().readAll();
            List<Example> train = ExampleEncoder.builder().setTokenizer(tok)
                    .setTemplate(ChatTemplate.resolve(template, loaded.chatTemplate(), tok)).optMaxSeqLen(maxSeqLen)
                    .build().encodeAll(d.records()).forTrainer();
            LoraConfig lora = LoraConfig.builder().optR(8).optLoraAlpha(16).optLoraDropout(0.05)
                    .optTargetModules(TargetModules.parse("q_proj,v_proj")).optUseDora(false).optUseRslora(false)
                    .optBaseModelNameOrPath(model.toString()).build();
            peft.addAdapter(PeftModel.DEFAULT, lora, 42L);
            TrainerConfig cfg = TrainerConfig.builder().optLearningRate(lr).optSchedule(LrSchedule.parse("cosine"))
                    .optWarmupSteps(0).optMaxSteps(maxSteps).optEpochs(1).optBatchSize(batchSize).optGradAccum(1)
                    .optSeed(42L).optEvalEvery(0).optPadTokenId(Math.max(0, tok.padTokenId())).build();
            TrainingResult result;
            try (Trainer trainer = new Trainer(peft, cfg)) {
                result = trainer.train(train, List.of());
            }
            peft.save(output, Provenance.of("lora", 42L, result.steps(), Provenance.sha256(data), template));
            return result;
        }
    }

    /** {@code peft4j generate --model MODEL [--adapter DIR] --prompt P --max-new-tokens N} (greedy or seeded). */
    static String generate(Path model, Path adapter, String prompt, GenerationConfig config) throws Exception {
        try (Peft4jModel loaded = Peft4jModel.builder().setPath(model).optQuantization("none").optAdapter(adapter)
                .build()) {
            return loaded.generate(List.of(prompt), config, TokenListener.NONE).texts().get(0);
        }
    }
}
