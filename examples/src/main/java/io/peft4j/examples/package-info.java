/**
 * Runnable examples, each a short {@code main} to copy from, using only the public API (the entry point
 * {@link io.peft4j.core.pretrained.Peft4jModel}, {@code PeftModel}, the {@code Trainer}, the instruction-datasets
 * readers, templates and encoder). Each runs with one command from the repository root:
 * <pre>
 * ./peft4j example QLoraInstructionTuning MODEL DATA.jsonl ADAPTER_OUT [STEPS] [MAX_NEW_TOKENS]
 * ./peft4j example PromptTuningClassifier MODEL DATA.jsonl ADAPTER_OUT [STEPS] [VIRTUAL_TOKENS]
 * ./peft4j example AdapterHotSwap MODEL [ADAPTER_DIR ...]
 * ./peft4j example MergeAndExport MODEL ADAPTER_DIR OUT_DIR
 * ./peft4j example EvaluateAdapter MODEL DATA.jsonl [ADAPTER_DIR|none] [FEW_SHOT] [MAX_NEW_TOKENS]
 * </pre>
 * {@code MODEL} is a GGUF file or a Hugging Face folder; {@code ./peft4j demo} puts SmolLM2-135M-Instruct at
 * {@code ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf}. Bad arguments fail with one usage line.
 */
package io.peft4j.examples;
