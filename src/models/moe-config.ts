import {resolveMoEArgs} from '../layers/moe/resolve-moe-args.js';
import type {MoEArgs} from '../layers/moe.js';

/**
 * The MoE layer's settings a model config may add under `moe`, beyond the sizes every kind lists
 * (numExperts, topK, expertHidden, numShared): router scoring and its weights, capacity, jitter,
 * group-limited routing, the balance losses and aux-loss-free bias balancing. Unset, the layer's
 * defaults apply (src/layers/moe.ts documents each).
 */
export type MoEOptions = Partial<
  Pick<
    MoEArgs,
    | 'activation'
    | 'scoring'
    | 'normTopK'
    | 'routeScale'
    | 'temperature'
    | 'jitter'
    | 'capacityFactor'
    | 'numGroups'
    | 'topKGroups'
    | 'auxLossCoef'
    | 'zLossCoef'
    | 'seqAuxLossCoef'
    | 'biasUpdateSpeed'
    | 'biasUpdate'
  >
>;

/** A value of the right type for each optional MoE key: what `--config` files are checked against. */
export const MOE_OPTION_TYPES: Required<MoEOptions> = {
  activation: 'swiglu',
  scoring: 'softmax',
  normTopK: false,
  routeScale: 1,
  temperature: 1,
  jitter: 0,
  capacityFactor: 0,
  numGroups: 1,
  topKGroups: 1,
  auxLossCoef: 0.01,
  zLossCoef: 0,
  seqAuxLossCoef: 0,
  biasUpdateSpeed: 0,
  biasUpdate: 'step',
};

/** The optional keys of every kind's config: the MoE options under `moe`. */
export const OPTIONAL_CONFIG_KEYS = {moe: MOE_OPTION_TYPES};

/**
 * Checks an MoE config the way the layer will (ranges, topK against groups…) before any data is read
 * or tokenizer trained; a ConfigError names the argument. Dense configs pass untouched.
 */
export function checkMoEConfig<C extends {ffn: string; moe: object}>(config: C): C {
  if (config.ffn === 'moe') resolveMoEArgs({...(config.moe as MoEArgs)});
  return config;
}
