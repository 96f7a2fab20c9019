/**
 * peft4j's benchmarks, kept out of the libraries. The model-level benches are plain classes the CLI runs as
 * {@code peft4j bench NAME} (each has a {@code run} on a loaded model returning a record, and a {@code report} on a
 * model file returning the {@code --json} keys): {@link io.peft4j.bench.ForwardBenchmark} (forward and generation
 * tokens/s, GEMM roofline, MFU), {@link io.peft4j.bench.TrainBenchmark} (LoRA step time, MFU; fused or full-logits loss; random tokens or
 * instruction data), {@link io.peft4j.bench.SyntheticTrainBenchmark} (QLoRA on a TinyLlama- or SmolLM2-360M-shaped
 * model built from seeded random weights directly in NF4, beside PEFT + bitsandbytes),
 * {@link io.peft4j.bench.SweepBenchmark} (cost curves over seq × model, each point in its own process; CSV and
 * chart by {@link io.peft4j.bench.SweepReport}) and
 * {@link io.peft4j.bench.CheckpointingBenchmark} (activation checkpointing's cost),
 * {@link io.peft4j.bench.MixedBatchBenchmark} (mixed-adapter batches), {@link io.peft4j.bench.DecodeBenchmark}
 * (single-stream quantized decode against fp32 and llama.cpp), {@link io.peft4j.bench.DequantBenchmark}
 * (NF4 dequantization against a copy) and {@link io.peft4j.bench.DataBenchmark} (dataset load + render + tokenize).
 * Peer numbers (transformers, PEFT) come from {@code scripts/interop/bench_*.py} through
 * {@link io.peft4j.bench.PeerScript}. JMH micro-benchmarks of single kernels live in this module's test scope
 * ({@code io.peft4j.bench.jmh}); {@code scripts/bench/jmh.sh} runs them, {@code mvn verify} only compiles them.
 * Benchmarks are not tests: nothing here asserts a speed.
 */
package io.peft4j.bench;
