import * as tf from '@tensorflow/tfjs';
import type {ExpertActivation, ExpertProjection} from '../layers/moe/expert-ffn.js';
import {expertWeightNames} from '../layers/moe/expert-ffn.js';
import type {MoE} from '../layers/moe.js';
import type {ConvertContext} from './convert-context.js';
import {DType} from './onnx-graph.js';
import type {StackPart} from './onnx-weights.js';

/** A weight of the MoE by its kit name, LoRA adapters merged in. */
interface MoEWeight {
  name: string;
  data: Float32Array;
  shape: number[];
  /** For one expert's matrix: the stacked weight it comes from. */
  part?: StackPart;
}

/**
 * The kit's MoE layer (layers/moe.ts) at inference, on x [..., d]: router logits → softmax or
 * sigmoid scores → (+ balancing bias, group limit) top-k experts → gate weights from the unbiased
 * scores (renormalised, scaled) → the experts, summed with their gate weights, + shared experts.
 * `dense` runs every expert on every token as three wide products ([d, E·h] and [E·h, d]) with
 * the gates zero for unchosen experts; `sparse` gathers each expert's tokens and scatters its
 * outputs back, so only k experts run per token.
 */
export function convertMoE(ctx: ConvertContext, layer: MoE, x: string): string {
  const g = ctx.g;
  const c = layer.config;
  const weights = moeWeights(layer);
  const w = (site: string) => weights.find((m) => m.name.endsWith(`/${site}`));
  const router = w('router/kernel')!;
  const [d, E] = router.shape as [number, number];
  const rows = g.op('Reshape', [x, g.int64s([-1, d])]); // [T, d]
  let logits = ctx.weights.linear(rows, router.name, router.data, [d, E]); // [T, E]
  if (c.temperature !== 1) logits = g.op('Div', [logits, g.scalar(c.temperature)]);
  const scores = c.scoring === 'softmax' ? g.op('Softmax', [logits], {axis: -1}) : g.op('Sigmoid', [logits]);
  let choice = scores;
  const biased = c.biasUpdateSpeed > 0;
  if (biased) {
    const bias = ctx.weights.float(`${layer.name}/router/balance_bias`, layer.getRoutingBias(), [E]);
    choice = g.op('Add', [scores, bias]);
  }
  if (c.numGroups > 1 && c.topKGroups < c.numGroups) {
    choice = limitGroups(ctx, choice, E, c.numGroups, c.topKGroups, biased);
  }
  const [, chosen] = g.opN('TopK', [choice, g.int64s([c.topK])], 2, {axis: -1, largest: 1, sorted: 1}); // [T, k]
  let gates = g.op('GatherElements', [scores, chosen!], {axis: 1}); // [T, k]
  if (c.normTopK) {
    const sum = g.op('ReduceSum', [gates, g.int64s([1])], {keepdims: 1});
    gates = g.op('Div', [gates, g.op('Add', [sum, g.scalar(1e-20)])]);
  }
  if (c.routeScale !== 1) gates = g.op('Mul', [gates, g.scalar(c.routeScale)]);
  const names = expertWeightNames(c.activation);
  // Each token's gate weight for every expert, zero for the experts it did not choose: [T, E].
  const gateRows = g.op('ScatterElements', [rowZeros(ctx, rows, E), chosen!, gates], {axis: 1});
  const runExperts = ctx.options.moe === 'dense' ? denseExperts : sparseExperts;
  let out = runExperts(
    ctx,
    rows,
    gateRows,
    names.map((p: ExpertProjection) => w(`experts/${p}`)!),
    c.activation,
  );
  if (c.numShared > 0) {
    const shared = names.map((p) => w(`shared/${p}`)!);
    out = g.op('Add', [out, expertMlp(ctx, rows, shared, c.activation)]);
  }
  return g.op('Reshape', [out, g.op('Shape', [x])], {}, `${layer.name}/out`);
}

/**
 * DeepSeek-V3 group-limited routing (as `chooseExperts`): a token keeps the experts of its best
 * `topKGroups` groups, a group scored by its best expert (the sum of its best two when the scores
 * carry a balancing bias); the others get −∞. choice [T, E] → [T, E].
 */
function limitGroups(
  ctx: ConvertContext,
  choice: string,
  E: number,
  numGroups: number,
  topKGroups: number,
  biased: boolean,
): string {
  const g = ctx.g;
  const size = E / numGroups;
  const grouped = g.op('Reshape', [choice, g.int64s([-1, numGroups, size])]); // [T, G, size]
  const groupScore =
    biased && size > 1
      ? g.op('ReduceSum', [g.opN('TopK', [grouped, g.int64s([2])], 2, {axis: -1})[0]!, g.int64s([2])], {
          keepdims: 0,
        })
      : g.op('ReduceMax', [grouped], {axes: [2], keepdims: 0}); // [T, G]
  const [, best] = g.opN('TopK', [groupScore, g.int64s([topKGroups])], 2, {axis: -1}); // [T, kg]
  const zeros = g.op('Expand', [g.scalar(0), g.op('Shape', [groupScore])]);
  const ones = g.op('Expand', [g.scalar(1), g.op('Shape', [best!])]);
  const kept = g.op('ScatterElements', [zeros, best!, ones], {axis: 1}); // [T, G] 1 = kept
  const keep = g.op('Cast', [g.op('Unsqueeze', [kept, g.int64s([2])])], {to: DType.bool}); // [T, G, 1]
  const masked = g.op('Where', [keep, grouped, g.scalar(Number.NEGATIVE_INFINITY)]);
  return g.op('Reshape', [masked, g.int64s([-1, E])]);
}

/** The routed experts on rows [T, d], weighted by gateRows [T, E] (zero where not chosen) → [T, d]. */
type ExpertsGraph = (
  ctx: ConvertContext,
  rows: string,
  gateRows: string,
  stacks: MoEWeight[],
  activation: ExpertActivation,
) => string;

/** Every expert on every token: wide products weighted by gateRows [T, E]. → [T, d]. */
const denseExperts: ExpertsGraph = (ctx, rows, gateRows, stacks, activation) => {
  const g = ctx.g;
  const shape = (m: MoEWeight) => m.shape as [number, number, number];
  const [E, , hidden] = shape(stacks[0]!);
  const h = activate(
    ctx,
    stacks.slice(0, -1).map((m) => ctx.weights.expertsWide(rows, m.name, m.data, shape(m))), // [T, E·h]
    activation,
  );
  const weighted = g.op('Mul', [
    g.op('Reshape', [h, g.int64s([-1, E, hidden])]),
    g.op('Unsqueeze', [gateRows, g.int64s([2])]),
  ]); // [T, E, h]
  const down = stacks.at(-1)!;
  return ctx.weights.expertsSummed(weighted, down.name, down.data, shape(down)); // [T, d]
};

/**
 * Each expert on its own tokens only: expert e gathers the rows whose gate for e is non-zero (a
 * chosen expert's softmax or sigmoid weight is positive), runs its MLP on them and weights the
 * outputs; one scatter-add sums every expert's rows back into their tokens. → [T, d].
 */
const sparseExperts: ExpertsGraph = (ctx, rows, gateRows, stacks, activation) => {
  const g = ctx.g;
  const E = stacks[0]!.shape[0]!;
  const byExpert = g.op('Transpose', [gateRows], {perm: [1, 0]}); // [E, T]
  const routed = g.op('Greater', [byExpert, g.scalar(0)]); // [E, T]
  const gateColumns = g.op('Unsqueeze', [byExpert, g.int64s([2])]); // [E, T, 1]
  const tokens: string[] = [];
  const outputs: string[] = [];
  for (let e = 0; e < E; e++) {
    const index = g.int64s([e], []);
    const mine = g.op('Reshape', [
      g.op('NonZero', [g.op('Gather', [routed, index], {axis: 0})]),
      g.int64s([-1]),
    ]); // [n]
    const y = expertMlp(
      ctx,
      g.op('Gather', [rows, mine], {axis: 0}),
      stacks.map((m) => sliceExpert(m, e)),
      activation,
    );
    const gate = g.op('Gather', [g.op('Gather', [gateColumns, index], {axis: 0}), mine], {axis: 0}); // [n, 1]
    tokens.push(mine);
    outputs.push(g.op('Mul', [y, gate]));
  }
  const zeros = g.op('Expand', [g.scalar(0), g.op('Shape', [rows])]); // [T, d]
  const where = g.op('Unsqueeze', [g.op('Concat', tokens, {axis: 0}), g.int64s([1])]); // [Σn, 1]
  return g.op('ScatterND', [zeros, where, g.op('Concat', outputs, {axis: 0})], {reduction: 'add'});
};

/** One expert MLP (or the shared experts' MLP) on x [n, d] with 2-D weights. */
function expertMlp(ctx: ConvertContext, x: string, ws: MoEWeight[], activation: ExpertActivation): string {
  const project = (input: string, m: MoEWeight) =>
    ctx.weights.linear(input, m.name, m.data, m.shape as [number, number], undefined, m.part);
  const h = activate(
    ctx,
    ws.slice(0, -1).map((m) => project(x, m)),
    activation,
  );
  return project(h, ws.at(-1)!);
}

/** The expert nonlinearity on the hidden projections: [gate, up] for SwiGLU, [up] otherwise. */
function activate(ctx: ConvertContext, hidden: string[], activation: ExpertActivation): string {
  const g = ctx.g;
  if (activation === 'swiglu') {
    const [gate, up] = hidden as [string, string];
    return g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
  }
  const [up] = hidden as [string];
  if (activation === 'relu') return g.op('Relu', [up]);
  // Exact GELU, as expert-ffn.ts: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
  const erf = g.op('Erf', [g.op('Mul', [up, g.scalar(Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [up, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
}

/** Zeros [T, E] for the rows x [T, d]. */
function rowZeros(ctx: ConvertContext, rows: string, E: number): string {
  const g = ctx.g;
  const T = g.op('Slice', [g.op('Shape', [rows]), g.int64s([0]), g.int64s([1])]); // [1]
  return g.op('Expand', [g.scalar(0), g.op('Concat', [T, g.int64s([E])], {axis: 0})]);
}

/** Expert e of a stacked weight [E, in, out] as a 2-D weight named `<stack>/<e>`. */
function sliceExpert(m: MoEWeight, e: number): MoEWeight {
  const [, inDim, outDim] = m.shape as [number, number, number];
  const size = inDim * outDim;
  return {
    name: `${m.name}/${e}`,
    data: m.data.subarray(e * size, (e + 1) * size),
    shape: [inDim, outDim],
    part: {stack: m.name, shape: m.shape, data: m.data, index: e},
  };
}

/** Every weight of the MoE by kit name, with LoRA adapters merged into their base weights. */
function moeWeights(layer: MoE): MoEWeight[] {
  const values = layer.mergedWeights();
  const merged = new Map<string, tf.Tensor>(layer.baseWeightNames().map((n, i) => [n, values[i]!]));
  try {
    return layer.weights
      .filter((v) => !/lora_[ab]$/.test(v.originalName))
      .map((v) => ({
        name: v.originalName,
        data: (merged.get(v.originalName) ?? v.read()).dataSync() as Float32Array,
        shape: [...v.shape] as number[],
      }));
  } finally {
    tf.dispose(values);
  }
}
