package io.peft4j.spark;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;

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

    /**
     * The mean negative log-likelihood of {@code reference}'s tokens after {@code prompt} (as {@link BatchInference}'s
     * {@code loss} column defines it), from the model's full logits and a log-softmax in double precision here.
     */
    static double referenceLoss(Path model, Path adapter, String prompt, String reference) throws Exception {
        try (Peft4jModel loaded = Peft4jModel.builder().setPath(model).optQuantization("none").optAdapter(adapter)
                .build(); NDManager m = Peft4j.newManager()) {
            int[] p = loaded.tokenizer().encode(prompt, true);
            int[] a = loaded.tokenizer().encode(reference, false);
            int[] ids = java.util.Arrays.copyOf(p, p.length + a.length);
            System.arraycopy(a, 0, ids, p.length, a.length);
            long[] shape = {1, ids.length};
            int[] ones = new int[ids.length];
            java.util.Arrays.fill(ones, 1);
            float[] logits = loaded.asCausalLM().forward(m.create(ids, new ai.djl.ndarray.types.Shape(shape)),
                    m.create(ones, new ai.djl.ndarray.types.Shape(shape)), null).toFloatArray();
            int vocab = logits.length / ids.length;
            double nll = 0;
            for (int t = p.length; t < ids.length; t++) {     // position t - 1 predicts token t
                int row = (t - 1) * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) {
                    max = Math.max(max, logits[row + v]);
                }
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(logits[row + v] - max);
                }
                nll -= logits[row + ids[t]] - max - Math.log(sum);
            }
            return nll / a.length;
        }
    }
}
