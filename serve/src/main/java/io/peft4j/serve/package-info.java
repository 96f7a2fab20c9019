/**
 * An OpenAI-compatible multi-adapter HTTP server over one frozen base model (Javalin): {@link
 * io.peft4j.serve.OpenAiServer} serves a {@link io.peft4j.serve.ServedModel} as configured by a
 * {@link io.peft4j.serve.ServeConfig}. Routes, validation, the continuous-batching scheduler, SSE streaming and
 * metrics live in {@code io.peft4j.serve.internal}.
 */
package io.peft4j.serve;
