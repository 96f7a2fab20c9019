package io.peft4j.lora;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Fields and {@code optX} setters of {@link LoraConfig.Builder}, kept apart to keep the record short. */
abstract class LoraConfigBuilderBase<B extends LoraConfigBuilderBase<B>> {
    int r = 8;
    double alpha = 8;
    double dropout;
    TargetModules target;
    TargetModules exclude;
    List<Integer> layers;
    List<String> layersPattern;
    Map<String, Integer> rankPattern = Map.of();
    Map<String, Double> alphaPattern = Map.of();
    LoraBias bias = LoraBias.NONE;
    boolean rslora;
    boolean dora;
    InitLoraWeights init = InitLoraWeights.DEFAULT;
    boolean fanInFanOut;
    List<String> modulesToSave;
    String taskType = "CAUSAL_LM";
    String baseModel;
    Map<String, Object> extra = new LinkedHashMap<>();

    LoraConfigBuilderBase() {
    }

    LoraConfigBuilderBase(LoraConfig c) {
        r = c.r();
        alpha = c.loraAlpha();
        dropout = c.loraDropout();
        target = c.targetModules();
        exclude = c.excludeModules();
        layers = c.layersToTransform();
        layersPattern = c.layersPattern();
        rankPattern = c.rankPattern();
        alphaPattern = c.alphaPattern();
        bias = c.bias();
        rslora = c.useRslora();
        dora = c.useDora();
        init = c.initLoraWeights();
        fanInFanOut = c.fanInFanOut();
        modulesToSave = c.modulesToSave();
        taskType = c.taskType();
        baseModel = c.baseModelNameOrPath();
        extra = new LinkedHashMap<>(c.extraFields());
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    public B optR(int value) {
        r = value;
        return self();
    }

    public B optLoraAlpha(double value) {
        alpha = value;
        return self();
    }

    public B optLoraDropout(double value) {
        dropout = value;
        return self();
    }

    public B optTargetModules(TargetModules value) {
        target = value;
        return self();
    }

    public B optExcludeModules(TargetModules value) {
        exclude = value;
        return self();
    }

    public B optLayersToTransform(List<Integer> value) {
        layers = value;
        return self();
    }

    public B optLayersPattern(List<String> value) {
        layersPattern = value;
        return self();
    }

    public B optRankPattern(Map<String, Integer> value) {
        rankPattern = value;
        return self();
    }

    public B optAlphaPattern(Map<String, Double> value) {
        alphaPattern = value;
        return self();
    }

    public B optBias(LoraBias value) {
        bias = value;
        return self();
    }

    public B optUseRslora(boolean value) {
        rslora = value;
        return self();
    }

    public B optUseDora(boolean value) {
        dora = value;
        return self();
    }

    public B optInitLoraWeights(InitLoraWeights value) {
        init = value;
        return self();
    }

    public B optFanInFanOut(boolean value) {
        fanInFanOut = value;
        return self();
    }

    public B optModulesToSave(List<String> value) {
        modulesToSave = value;
        return self();
    }

    public B optTaskType(String value) {
        taskType = value;
        return self();
    }

    public B optBaseModelNameOrPath(String value) {
        baseModel = value;
        return self();
    }
}
