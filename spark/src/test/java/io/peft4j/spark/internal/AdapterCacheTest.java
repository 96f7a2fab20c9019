package io.peft4j.spark.internal;

import ai.djl.ndarray.NDManager;
import io.peft4j.core.Peft4j;
import io.peft4j.core.adapter.PeftModel;
import io.peft4j.core.model.llama.LlamaModel;
import io.peft4j.core.testing.TinyHfFolder;
import io.peft4j.lora.LoraConfig;
import io.peft4j.lora.TargetModules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AdapterCache}'s eviction by count and by bytes of adapter weights, least recently used first. */
class AdapterCacheTest {
    @TempDir
    Path tmp;

    @Test
    void evict_byteBudget_unloadsLeastRecentlyUsed_neverOneInUse() throws Exception {
        try (NDManager m = Peft4j.newManager(); LlamaModel model = LlamaModel.random(TinyHfFolder.CONFIG, 3, m);
             PeftModel peft = PeftModel.wrap(model)) {
            List<Path> dirs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {          // r 4 on q and v of 2 layers: 2 * 2 * 4 * (64 + 64) params each
                peft.addAdapter("a" + i, LoraConfig.builder().optR(4)
                        .optTargetModules(TargetModules.of("q_proj", "v_proj")).build(), i);
                dirs.add(tmp.resolve("a" + i));
                peft.saveAdapter("a" + i, dirs.get(i));
                peft.deleteAdapter("a" + i);
            }
            AdapterCache cache = AdapterCache.of(peft);
            String n0 = cache.nameOf(dirs.get(0));
            long one = cache.loadedBytes();
            assertEquals(peft.adapter(n0).parameterCount() * 4, one);
            assertTrue(one > 0);
            String n1 = cache.nameOf(dirs.get(1));
            String n2 = cache.nameOf(dirs.get(2));
            cache.nameOf(dirs.get(0));                       // a0 used again: a1 is now the least recent
            cache.evict(10, 2 * one, Set.of(n2));
            assertEquals(2, cache.loadedCount());
            assertEquals(Set.of(n0, n2), peft.adapterNames(), "a1, least recently used, went first");
            cache.evict(10, one / 2, Set.of(n2));            // over budget even alone: keeps the one in use
            assertEquals(Set.of(n2), peft.adapterNames());
            assertEquals(one, cache.loadedBytes());
            String n3 = cache.nameOf(dirs.get(3));
            cache.evict(1, 0, Set.of(n3));                   // no byte budget: the count alone
            assertEquals(Set.of(n3), peft.adapterNames());
            assertTrue(!n1.equals(n3));
        }
    }
}
