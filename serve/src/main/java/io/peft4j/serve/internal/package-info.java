/**
 * The server's parts: request parsing ({@link io.peft4j.serve.internal.RequestParser}), the continuous-batching
 * scheduler ({@link io.peft4j.serve.internal.Engine}) over {@link io.peft4j.serve.internal.Sequence} rows, the
 * served adapters ({@link io.peft4j.serve.internal.AdapterCatalog}), the route handlers (a {@code ConnectionProbe}
 * notices a non-streaming client that left), metrics and OpenAI error JSON
 * ({@link io.peft4j.serve.internal.ApiError}).
 */
package io.peft4j.serve.internal;
