import {ConfigError} from '../../errors.js';
import {
  checkChoice,
  checkDivides,
  checkInt,
  checkPositive,
  checkRange,
  type LayerArgs,
} from '../arg-checks.js';
import type {MoEArgs} from '../moe.js';
import {EXPERT_ACTIVATIONS} from './expert-ffn.js';
import {ROUTER_SCORINGS} from './routing.js';
import {BIAS_UPDATE_MODES} from './routing-bias.js';

/** MoEArgs with every default filled in: what `getConfig` returns besides the base layer fields. */
export interface ResolvedMoEArgs extends Required<Omit<MoEArgs, keyof LayerArgs | 'seed' | 'lora'>> {
  seed: number | null;
}

const NAME = 'MoE';
const nonNegative = (arg: string, v: number) => checkRange(NAME, arg, v, 0, Number.POSITIVE_INFINITY);

/** Fills the defaults of `MoEArgs` and checks every range; throws ConfigError naming the argument. */
export function resolveMoEArgs(args: MoEArgs): ResolvedMoEArgs {
  const numExperts = checkInt(NAME, 'numExperts', args.numExperts, 1);
  const numGroups = checkInt(NAME, 'numGroups', args.numGroups ?? 1, 1, numExperts);
  checkDivides(NAME, 'numGroups', numGroups, 'numExperts', numExperts);
  const topKGroups = checkInt(NAME, 'topKGroups', args.topKGroups ?? numGroups, 1, numGroups);
  const reachable = (topKGroups * numExperts) / numGroups;
  const topK = checkInt(NAME, 'topK', args.topK ?? Math.min(2, reachable), 1, numExperts);
  if (topK > reachable) {
    throw new ConfigError(
      `${NAME}: topK (${topK}) must be <= topKGroups·numExperts/numGroups = ${reachable}, the experts a token can reach`,
    );
  }
  const scoring = checkChoice(NAME, 'scoring', args.scoring ?? 'softmax', ROUTER_SCORINGS);
  const seed = args.seed ?? null;
  if (seed !== null) checkInt(NAME, 'seed', seed, 0);
  return {
    numExperts,
    topK,
    expertHidden: checkInt(NAME, 'expertHidden', args.expertHidden, 1),
    numShared: checkInt(NAME, 'numShared', args.numShared ?? 0, 0),
    activation: checkChoice(NAME, 'activation', args.activation ?? 'swiglu', EXPERT_ACTIVATIONS),
    scoring,
    normTopK: args.normTopK ?? scoring === 'sigmoid',
    routeScale: checkPositive(NAME, 'routeScale', args.routeScale ?? 1),
    temperature: checkPositive(NAME, 'temperature', args.temperature ?? 1),
    jitter: checkRange(NAME, 'jitter', args.jitter ?? 0, 0, 1, false),
    capacityFactor: nonNegative('capacityFactor', args.capacityFactor ?? 0),
    numGroups,
    topKGroups,
    auxLossCoef: nonNegative('auxLossCoef', args.auxLossCoef ?? 0.01),
    zLossCoef: nonNegative('zLossCoef', args.zLossCoef ?? 0),
    seqAuxLossCoef: nonNegative('seqAuxLossCoef', args.seqAuxLossCoef ?? 0),
    biasUpdateSpeed: nonNegative('biasUpdateSpeed', args.biasUpdateSpeed ?? 0),
    biasUpdate: checkChoice(NAME, 'biasUpdate', args.biasUpdate ?? 'step', BIAS_UPDATE_MODES),
    seed,
  };
}
