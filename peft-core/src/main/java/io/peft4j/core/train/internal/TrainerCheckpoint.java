package io.peft4j.core.train.internal;

import io.peft4j.core.train.AdamW;
import io.peft4j.core.train.TrainerConfig;
import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peft4j.core.CheckpointFormatException;
import io.peft4j.core.Json;
import io.peft4j.core.PeftException;
import io.peft4j.core.adapter.Adapter;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.checkpoint.SafetensorsReader;
import io.peft4j.core.checkpoint.SafetensorsWriter;
import io.peft4j.core.io.AtomicFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A resumable checkpoint folder {@code checkpoint-<step>}: {@code adapters/<name>/} (PEFT layout) for each active
 * adapter, plus {@code adapters/<name>/training_state.safetensors} (its trainable arrays {@code p.i}) when the PEFT
 * file does not hold what training updates (P-tuning's encoder), {@code optimizer.safetensors} (AdamW moments
 * {@code m.i}/{@code v.i}) and {@code trainer_state.json}
 * (step, optimizer step count, seed and the seed rules of {@link RngSeeds}; the RNG position is the step, since
 * dropout seeds are derived from it).
 * Written through {@link AtomicFolder} (temp folder, then swapped in by rename), so a crash never leaves a half
 * checkpoint under the final name; each save first removes the temp folders of interrupted ones.
 */
public final class TrainerCheckpoint {
    public static final String PREFIX = "checkpoint-";
    public static final String STATE = "trainer_state.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    /** Per adapter whose saved file is not its training state ({@link Adapter#savedFormIsTrainingState()}). */
    public static final String TRAINING_STATE = "training_state.safetensors";

    private TrainerCheckpoint() {
    }

    public static Path save(Path outputDir, int step, PeftModel peft, AdamW opt, List<NDArray> params, TrainerConfig cfg)
            throws PeftException {
        Path dir = outputDir.resolve(PREFIX + step);
        try {
            AtomicFolder.recoverChildren(outputDir);        // temp folders of interrupted checkpoints and saves
            AtomicFolder.replace(dir, tmp -> {
                try {
                    for (String name : peft.activeAdapters()) {
                        Path adapterDir = tmp.resolve("adapters").resolve(name);
                        peft.saveAdapter(name, adapterDir);
                        Adapter a = peft.adapter(name);
                        if (!a.savedFormIsTrainingState()) {
                            Map<String, NDArray> own = new LinkedHashMap<>();
                            List<NDArray> arrays = a.trainableParameters();
                            for (int i = 0; i < arrays.size(); i++) {
                                own.put("p." + i, arrays.get(i));
                            }
                            SafetensorsWriter.writeArrays(adapterDir.resolve(TRAINING_STATE), own,
                                    Map.of("format", "pt"));
                        }
                    }
                } catch (PeftException e) {
                    throw new IOException(e.getMessage(), e);
                }
                Map<String, NDArray> moments = new LinkedHashMap<>();
                for (int i = 0; i < params.size(); i++) {
                    moments.put("m." + i, opt.firstMoments().get(i));
                    moments.put("v." + i, opt.secondMoments().get(i));
                }
                SafetensorsWriter.writeArrays(tmp.resolve(OPTIMIZER), moments, Map.of("format", "pt"));
                Files.writeString(tmp.resolve(STATE), Json.MAPPER.writeValueAsString(state(step, opt, params, cfg)));
            });
            prune(outputDir, cfg.keepCheckpoints());
            return dir;
        } catch (IOException e) {
            throw new PeftException(dir + ": writing checkpoint failed: " + e.getMessage(), e);
        }
    }

    private static ObjectNode state(int step, AdamW opt, List<NDArray> params, TrainerConfig cfg) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        s.put("step", step);
        s.put("optimizer_steps", opt.stepCount());
        s.put("seed", cfg.seed());
        s.put("micro_batches_done", (long) step * cfg.gradAccum());
        s.put("rng", RngSeeds.DESCRIPTION);
        ArrayNode next = s.putArray("next_micro_batch_seeds");
        for (int i = 0; i < cfg.gradAccum(); i++) {
            next.add(RngSeeds.microBatch(cfg.seed(), step, i));
        }
        ArrayNode shapes = s.putArray("param_shapes");
        params.forEach(p -> shapes.add(Arrays.toString(p.getShape().getShape())));
        return s;
    }

    public static int load(Path dir, PeftModel peft, AdamW opt, List<NDArray> params, TrainerConfig cfg)
            throws PeftException {
        Path stateFile = dir.resolve(STATE);
        JsonNode s;
        try {
            s = Json.MAPPER.readTree(stateFile.toFile());
        } catch (IOException e) {
            throw new CheckpointFormatException(stateFile, "cannot read trainer state: " + e.getMessage(), e);
        }
        if (s.path("seed").asLong() != cfg.seed()) {
            throw new IllegalArgumentException(stateFile + ": checkpoint was trained with seed " + s.path("seed")
                    .asLong() + ", this run uses " + cfg.seed() + " (the data order would differ)");
        }
        for (String name : peft.activeAdapters()) {
            Path adapterDir = dir.resolve("adapters").resolve(name);
            Adapter a = peft.adapter(name);
            if (a.savedFormIsTrainingState()) {
                peft.loadAdapterWeights(name, adapterDir);
                continue;
            }
            Path own = adapterDir.resolve(TRAINING_STATE);
            try (SafetensorsReader c = SafetensorsReader.open(own)) {
                List<NDArray> arrays = a.trainableParameters();
                if (c.names().size() != arrays.size()) {
                    throw new CheckpointFormatException(own, "adapter '" + name + "' training state has "
                            + c.names().size() + " arrays, the adapter has " + arrays.size());
                }
                for (int i = 0; i < arrays.size(); i++) {
                    copy(own, c, "p." + i, arrays.get(i));
                }
            }
        }
        Path optFile = dir.resolve(OPTIMIZER);
        try (SafetensorsReader c = SafetensorsReader.open(optFile)) {
            if (c.names().size() != 2 * params.size()) {
                throw new CheckpointFormatException(optFile, "optimizer state has " + c.names().size() / 2
                        + " parameters, the model has " + params.size() + " trainable arrays");
            }
            for (int i = 0; i < params.size(); i++) {
                copy(optFile, c, "m." + i, opt.firstMoments().get(i));
                copy(optFile, c, "v." + i, opt.secondMoments().get(i));
            }
        }
        opt.setStepCount(s.path("optimizer_steps").asLong());
        return s.path("step").asInt();
    }

    private static void copy(Path file, SafetensorsReader c, String key, NDArray into)
            throws CheckpointFormatException {
        if (!c.contains(key) || !Arrays.equals(c.shape(key), into.getShape().getShape())) {
            throw new CheckpointFormatException(file, key, "missing or shaped " + (c.contains(key)
                    ? Arrays.toString(c.shape(key)) : "-") + ", expected " + into.getShape());
        }
        into.set(c.readFloats(key));
    }

    public static Path latest(Path outputDir) {
        if (outputDir == null || !Files.isDirectory(outputDir)) {
            return null;
        }
        return list(outputDir).stream().max(Comparator.comparingInt(TrainerCheckpoint::stepOf)).orElse(null);
    }

    private static List<Path> list(Path outputDir) {
        try (Stream<Path> s = Files.list(outputDir)) {
            return s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve(STATE))).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int stepOf(Path p) {
        return Integer.parseInt(p.getFileName().toString().substring(PREFIX.length()));
    }

    private static void prune(Path outputDir, int keep) throws IOException {
        List<Path> all = new ArrayList<>(list(outputDir));
        all.sort(Comparator.comparingInt(TrainerCheckpoint::stepOf));
        for (int i = 0; i < all.size() - keep; i++) {
            AtomicFolder.deleteTree(all.get(i));
        }
    }

    /** The step recorded in {@code dir}'s trainer state. */
    public static int step(Path dir) throws PeftException {
        Path stateFile = dir.resolve(STATE);
        try {
            return Json.MAPPER.readTree(stateFile.toFile()).path("step").asInt();
        } catch (IOException e) {
            throw new CheckpointFormatException(stateFile, "cannot read trainer state: " + e.getMessage(), e);
        }
    }
}
