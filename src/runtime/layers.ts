/**
 * Every layer class the kit registers with tfjs, imported for that side effect: a model.json that
 * names one of them (`LearnedPositions`, `MoE`, …) can be built. test/runtime/registered-layers.test.ts
 * fails when a `registerClass` in src/ is missing here.
 */
import '../layers/attention.js';
import '../layers/decoder-block.js';
import '../layers/hashed-bigrams.js';
import '../layers/learned-positions.js';
import '../layers/lora-dense.js';
import '../layers/lora-embedding.js';
import '../layers/moe.js';
import '../layers/rms-norm.js';
import '../layers/swiglu.js';
import '../layers/token-embedding.js';
import '../layers/masked-mean-pool.js';
