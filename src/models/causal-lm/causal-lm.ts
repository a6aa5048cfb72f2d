import * as tf from '@tensorflow/tfjs';
import {DecoderBlock} from '../../layers/decoder-block.js';
import {LearnedPositions} from '../../layers/learned-positions.js';
import {RMSNorm} from '../../layers/rms-norm.js';
import {TokenEmbedding} from '../../layers/token-embedding.js';
import type {MoEOptions} from '../moe-config.js';

/** The small DeepSeek-style decoder: token ids → next-token logits at every position. */
export interface CausalLMConfig {
  /** Tokens per training window, and the most a prompt plus its continuation can hold. */
  contextLength: number;
  /** Width of every block. */
  dModel: number;
  numLayers: number;
  /** Query heads; must divide dModel unless headDim is set. */
  numHeads: number;
  /**
   * Size of each head; 0 means dModel / numHeads. Set by structured pruning of heads, which keeps
   * the head size and lowers numHeads, so a pruned run's config still builds its model.
   */
  headDim: number;
  /** Key/value heads (grouped-query attention); must divide numHeads. 0: as many as numHeads. */
  numKvHeads: number;
  /** Rotary embeddings in every attention layer, or a learned table added to the token embedding (GPT-2). */
  positions: 'rope' | 'learned';
  /** Feed-forward kind: dense SwiGLU, or Mixture-of-Experts with shared experts. */
  ffn: 'dense' | 'moe';
  /** SwiGLU hidden size of the dense FFN. */
  ffnHidden: number;
  /**
   * MoE FFN: routed experts, experts per token, the hidden size of every expert, always-on shared
   * experts, router scoring, renormalized top-k weights, Switch load-balancing loss coefficient;
   * any of the layer's other settings (MoEOptions) may be added.
   */
  moe: {
    numExperts: number;
    topK: number;
    expertHidden: number;
    numShared: number;
    scoring: 'softmax' | 'sigmoid';
    normTopK: boolean;
    auxLossCoef: number;
  } & MoEOptions;
  /** Output head = the token embedding transposed (fewer parameters), or its own matrix. */
  tiedHead: boolean;
  /** Dropout on sublayer outputs and attention probabilities, in training. */
  dropout: number;
  /** `byte`: 256 byte ids + specials, nothing to train; `bpe`: byte-level BPE trained on the data. */
  tokenizerKind: 'byte' | 'bpe';
  /** Vocabulary of a trained BPE tokenizer, specials included (ignored for `byte`). */
  vocabSize: number;
}

export const DEFAULT_CAUSAL_LM_CONFIG: CausalLMConfig = {
  contextLength: 128,
  dModel: 128,
  numLayers: 4,
  numHeads: 4,
  headDim: 0,
  numKvHeads: 0,
  positions: 'rope',
  ffn: 'dense',
  ffnHidden: 344,
  moe: {
    numExperts: 8,
    topK: 2,
    expertHidden: 128,
    numShared: 1,
    scoring: 'softmax',
    normTopK: true,
    auxLossCoef: 0.01,
  },
  tiedHead: true,
  dropout: 0,
  tokenizerKind: 'bpe',
  vocabSize: 4096,
};

/** The two configs `npm run bench:train` measures (issue 5), shared by dense-lm and moe-lm. */
const BENCH_BASE: Partial<CausalLMConfig> = {
  contextLength: 128,
  dModel: 256,
  numLayers: 4,
  numHeads: 4,
  positions: 'learned',
  tiedHead: false,
  tokenizerKind: 'byte',
};

export const CAUSAL_LM_PRESETS: Readonly<Record<string, Partial<CausalLMConfig>>> = {
  /** Seconds on a laptop core: tests and smoke runs. */
  tiny: {contextLength: 64, dModel: 64, numLayers: 2, numHeads: 2, ffnHidden: 176, vocabSize: 1024},
  /** The default shape: four blocks of 128, RoPE, tied head. */
  small: {},
  /** small with a DeepSeekMoE feed-forward: 8 routed experts (top-2) + 1 shared. */
  'small-moe': {ffn: 'moe'},
  /** bench:train's dense reference: 4,360,448 parameters. */
  'dense-lm': {...BENCH_BASE, ffn: 'dense', ffnHidden: 1024},
  /**
   * bench:train's MoE: 8 routed SwiGLU experts of 256 (top-2, renormalized, softmax, Switch loss
   * 0.01) + a shared SwiGLU of 512, written as 2 shared experts of 256 — the same function and
   * parameters, as a SwiGLU's hidden units are independent and the shared outputs are summed.
   * 9,087,232 parameters, 4,368,640 active per token.
   */
  'moe-lm': {
    ...BENCH_BASE,
    ffn: 'moe',
    moe: {
      numExperts: 8,
      topK: 2,
      expertHidden: 256,
      numShared: 2,
      scoring: 'softmax',
      normTopK: true,
      auxLossCoef: 0.01,
    },
  },
};

/** One line per preset, for `train --help` (a test keeps the names equal to CAUSAL_LM_PRESETS'). */
export const CAUSAL_LM_PRESET_SUMMARIES: Readonly<Record<string, string>> = {
  tiny: '2 blocks of 64, context 64, 1k BPE vocab: seconds, for tests',
  small: '4 blocks of 128, RoPE, tied head, context 128 (default)',
  'small-moe': 'small with MoE FFNs: 8 experts (top-2) + 1 shared',
  'dense-lm': "bench:train's dense model: 4 blocks of 256, 4.36M params",
  'moe-lm': "bench:train's MoE: 8 experts of 256 + 2 shared, 9.09M params",
};

/** Layer names of the model, which LoRA patterns and cached decoding address. */
export const CAUSAL_LM_LAYERS = {embed: 'embed', positions: 'pos', norm: 'final-norm', head: 'head'} as const;
export const blockName = (i: number) => `block${i}`;

/**
 * Builds the decoder: ids [batch, t ≤ contextLength] int32 → logits [batch, t, vocabSize].
 * embed (+ learned positions) → numLayers pre-norm blocks (RMSNorm, causal attention with RoPE or
 * not, SwiGLU or MoE) → final RMSNorm → head (tied: the embedding applied to hidden states).
 */
export function buildCausalLM(config: CausalLMConfig, vocabSize: number): tf.LayersModel {
  const ids = tf.input({shape: [null], dtype: 'int32', name: 'ids'});
  const embed = new TokenEmbedding({vocabSize, dModel: config.dModel, name: CAUSAL_LM_LAYERS.embed});
  let h = embed.apply(ids) as tf.SymbolicTensor;
  if (config.positions === 'learned') {
    h = new LearnedPositions({
      maxLength: config.contextLength,
      dModel: config.dModel,
      name: CAUSAL_LM_LAYERS.positions,
    }).apply(h) as tf.SymbolicTensor;
  }
  for (let i = 0; i < config.numLayers; i++) {
    h = new DecoderBlock({
      name: blockName(i),
      dModel: config.dModel,
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads || config.numHeads,
      headDim: config.headDim || undefined,
      rope: config.positions === 'rope',
      ffn: config.ffn,
      ffnHidden: config.ffnHidden,
      moe: config.ffn === 'moe' ? {...config.moe} : null,
      attnDropout: config.dropout,
      residDropout: config.dropout,
    }).apply(h) as tf.SymbolicTensor;
  }
  h = new RMSNorm({name: CAUSAL_LM_LAYERS.norm}).apply(h) as tf.SymbolicTensor;
  const logits = config.tiedHead
    ? (embed.apply(h) as tf.SymbolicTensor)
    : (tf.layers
        .dense({units: vocabSize, useBias: false, name: CAUSAL_LM_LAYERS.head})
        .apply(h) as tf.SymbolicTensor);
  return tf.model({inputs: ids, outputs: logits, name: 'causal-lm'});
}

/**
 * Parameters one token uses: all of them for a dense FFN; with MoE, the routed experts it is not
 * sent to are left out (topK of numExperts run).
 */
export function activeParameters(config: CausalLMConfig, total: number): number {
  if (config.ffn !== 'moe') return total;
  const {numExperts, topK, expertHidden} = config.moe;
  const perExpert = 3 * config.dModel * expertHidden;
  return total - config.numLayers * (numExperts - topK) * perExpert;
}
