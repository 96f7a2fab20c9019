/**
 * Crash-safe file-system helpers shared by every module that writes a folder: {@link io.peft4j.core.io.AtomicFolder}
 * (replace a folder as a whole by write-beside-then-rename, with recovery of interrupted swaps),
 * {@link io.peft4j.core.io.OutputLock} (one run per output folder, the holder's PID in the lock file),
 * {@link io.peft4j.core.io.OutputFolder} (what an output folder holds before a command writes into it),
 * {@link io.peft4j.core.io.FiniteValues} (NaN/Inf checks of tensors about to be saved or just loaded) and
 * {@link io.peft4j.core.io.CrashPoint} (the named write points a crash test can halt the JVM at).
 */
package io.peft4j.core.io;
