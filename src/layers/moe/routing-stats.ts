import type {DispatchPlan} from './dispatch-plan.js';

/** What one MoE call did with its tokens: for training logs and a routing-collapse alarm. */
export interface RoutingStats {
  numTokens: number;
  topK: number;
  numExperts: number;
  /** [E] choices routed to each expert (its load), before capacity. */
  tokensPerExpert: number[];
  /** T·k / E: the load of each expert under perfect balance. */
  meanLoad: number;
  maxLoad: number;
  /** maxLoad / meanLoad: 1 is perfect balance, E is collapse onto one expert. */
  maxOverMean: number;
  /** Experts that got no token. */
  unusedExperts: number;
  /** Per-expert capacity, or null when tokens are never dropped. */
  capacity: number | null;
  /** Choices dropped because their expert was full. */
  droppedChoices: number;
  /** Tokens that lost all k of their experts (only the shared experts and the residual carry them). */
  droppedTokens: number;
  /** Rows the experts computed, padding included (kept choices are the useful ones). */
  expertRows: number;
}

export function routingStats(plan: DispatchPlan): RoutingStats {
  const {numTokens, topK} = plan;
  let droppedTokens = 0;
  for (let t = 0; t < numTokens; t++) {
    let kept = 0;
    for (let j = 0; j < topK; j++) if (plan.combineIndex[t * topK + j]! >= 0) kept++;
    if (kept === 0) droppedTokens++;
  }
  return {
    ...routingStatsFromLoad(plan.load, numTokens, topK),
    capacity: plan.capacity,
    droppedChoices: plan.dropped,
    droppedTokens,
    expertRows: plan.tokenIndex.length,
  };
}

/** The stats of a call without capacity or padding (the in-graph router's), from its load [E]. */
export function routingStatsFromLoad(load: ArrayLike<number>, numTokens: number, topK: number): RoutingStats {
  const tokensPerExpert = Array.from(load, Math.round);
  const numExperts = tokensPerExpert.length;
  const meanLoad = (numTokens * topK) / numExperts;
  const maxLoad = Math.max(...tokensPerExpert);
  return {
    numTokens,
    topK,
    numExperts,
    tokensPerExpert,
    meanLoad,
    maxLoad,
    maxOverMean: meanLoad > 0 ? maxLoad / meanLoad : 0,
    unusedExperts: tokensPerExpert.filter((n) => n === 0).length,
    capacity: null,
    droppedChoices: 0,
    droppedTokens: 0,
    expertRows: numTokens * topK,
  };
}

/**
 * A one-line warning when routing has collapsed — one expert takes more than `maxOverMean` times
 * its fair share — or undefined when it has not. For a training loop's `onStep`.
 */
export function routingCollapseWarning(stats: RoutingStats, maxOverMean = 2): string | undefined {
  if (stats.numTokens === 0 || stats.maxOverMean <= maxOverMean) return undefined;
  const worst = stats.tokensPerExpert.indexOf(stats.maxLoad);
  return (
    `MoE routing is collapsing: expert ${worst} takes ${stats.maxOverMean.toFixed(2)}x its fair share ` +
    `(${stats.unusedExperts} of ${stats.numExperts} experts unused) — raise auxLossCoef or biasUpdateSpeed`
  );
}
