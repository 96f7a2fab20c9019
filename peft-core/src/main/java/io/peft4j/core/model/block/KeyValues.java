package io.peft4j.core.model.block;

import ai.djl.ndarray.NDArray;

/**
 * Keys and values of one attention layer, each {@code [B, kvHeads, keys, D]}: what a KV cache hands back after
 * appending a step's new positions.
 *
 * @param keys   {@code [B, kvHeads, keys, D]}
 * @param values {@code [B, kvHeads, keys, D]}
 *
 * @since 0.1.0
 */
public record KeyValues(NDArray keys, NDArray values) {
}
