/**
 * The kit's tfjs layers (one concept per file: attention, decoder block, MoE and its routing under moe/,
 * RMSNorm, RoPE, SwiGLU, token embedding, hashed bigrams, LoRA layers, masked mean pooling), each registered for
 * serialization, plus model-wide helpers that walk or rebuild a model layer by layer (walk-layers,
 * map-layers). Nothing here knows about run folders, data files or commands.
 */
export * from './attention.js';
export {CompositeLayer, hasSublayers} from './composite-layer.js';
export * from './decoder-block.js';
export * from './hashed-bigrams.js';
export * from './kv-cache.js';
export * from './learned-positions.js';
export * from './lora-dense.js';
export * from './lora-embedding.js';
export * from './map-layers.js';
export {MaskedMeanPool, type MaskedMeanPoolArgs} from './masked-mean-pool.js';
export * from './moe/dispatch-plan.js';
export * from './moe/expert-dispatch.js';
export * from './moe/expert-ffn.js';
export * from './moe/expert-lora.js';
export * from './moe/moe-layers.js';
export * from './moe/moe-losses.js';
export * from './moe/resolve-moe-args.js';
export * from './moe/routing.js';
export * from './moe/routing-bias.js';
export * from './moe/routing-stats.js';
export * from './moe.js';
export * from './rms-norm.js';
export * from './rope.js';
export * from './step-dropout.js';
export type {SublayerLoRA} from './sublayer-lora.js';
export * from './swiglu.js';
export * from './token-embedding.js';
export * from './walk-layers.js';
