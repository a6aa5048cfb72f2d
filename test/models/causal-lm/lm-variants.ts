import {
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from '../../../src/models/causal-lm/causal-lm.js';

/** A preset's config with overrides. */
export const preset = (name: string, over: Partial<CausalLMConfig> = {}): CausalLMConfig =>
  ({...DEFAULT_CAUSAL_LM_CONFIG, ...CAUSAL_LM_PRESETS[name], ...over}) as CausalLMConfig;

/** A model of a few thousand weights: context 16, 2 blocks of 16. */
export const small = (over: Partial<CausalLMConfig>) =>
  preset('tiny', {contextLength: 16, dModel: 16, numLayers: 2, numHeads: 2, ffnHidden: 24, ...over});

/** The decoder variants the decoding tests cover: positions, head, FFN kind and KV grouping. */
export const VARIANTS: Record<string, Partial<CausalLMConfig>> = {
  'rope, tied head': {},
  'learned positions, untied head': {positions: 'learned', tiedHead: false},
  'MoE, grouped KV heads': {
    ffn: 'moe',
    numHeads: 4,
    numKvHeads: 2,
    moe: {
      numExperts: 4,
      topK: 2,
      expertHidden: 8,
      numShared: 1,
      scoring: 'softmax',
      normTopK: true,
      auxLossCoef: 0.01,
    },
  },
};
