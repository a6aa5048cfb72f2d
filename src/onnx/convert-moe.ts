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
  const stack = (p: ExpertProjection) => w(`experts/${p}`)!;
  let out =
    ctx.options.moe === 'dense'
      ? denseExperts(ctx, rows, chosen!, gates, names.map(stack), c.activation)
      : sparseExperts(ctx, rows, chosen!, gates, names.map(stack), c.activation);
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

/** Every expert on every token: wide products, gates [T, E] zero for the unchosen. → [T, d]. */
function denseExperts(
  ctx: ConvertContext,
  rows: string,
  chosen: string,
  gates: string,
  stacks: MoEWeight[],
  activation: ExpertActivation,
): string {
  const g = ctx.g;
  const [E, , hidden] = stacks[0]!.shape as [number, number, number];
  const gateRows = g.op('ScatterElements', [rowZeros(ctx, rows, E), chosen, gates], {axis: 1}); // [T, E]
  const matrix = (m: MoEWeight, join: 'in' | 'out') =>
    ctx.weights.experts(m.name, m.data, m.shape as [number, number, number], join);
  const project = (m: MoEWeight) => g.op('MatMul', [rows, matrix(m, 'out')]); // [T, E·h]
  const h = activate(ctx, stacks.slice(0, -1).map(project), activation);
  const weighted = g.op('Mul', [
    g.op('Reshape', [h, g.int64s([-1, E, hidden])]),
    g.op('Unsqueeze', [gateRows, g.int64s([2])]),
  ]); // [T, E, h]
  const flat = g.op('Reshape', [weighted, g.int64s([-1, E * hidden])]);
  return g.op('MatMul', [flat, matrix(stacks.at(-1)!, 'in')]); // [T, d]
}

/** Each expert on its own tokens only: gather, expert MLP, weight, scatter-add. → [T, d]. */
function sparseExperts(
  ctx: ConvertContext,
  rows: string,
  chosen: string,
  gates: string,
  stacks: MoEWeight[],
  activation: ExpertActivation,
): string {
  const g = ctx.g;
  const E = stacks[0]!.shape[0]!;
  let out = g.op('Expand', [g.scalar(0), g.op('Shape', [rows])]); // [T, d]
  for (let e = 0; e < E; e++) {
    const picked = g.op('Equal', [chosen, g.int64s([e], [])]); // [T, k]
    const gate = g.op('ReduceSum', [g.op('Where', [picked, gates, g.scalar(0)]), g.int64s([1])], {
      keepdims: 0,
    }); // [T]
    const hit = g.op('ReduceMax', [g.op('Cast', [picked], {to: DType.float})], {axes: [1], keepdims: 0});
    const tokens = g.op('Reshape', [g.op('NonZero', [hit]), g.int64s([-1])]); // [n]
    const x = g.op('Gather', [rows, tokens], {axis: 0}); // [n, d]
    const expert = stacks.map((m) => sliceExpert(m, e));
    const y = expertMlp(ctx, x, expert, activation);
    const weighted = g.op('Mul', [
      y,
      g.op('Unsqueeze', [g.op('Gather', [gate, tokens], {axis: 0}), g.int64s([1])]),
    ]);
    const index = g.op('Unsqueeze', [tokens, g.int64s([1])]); // [n, 1]
    out = g.op('ScatterND', [out, index, weighted], {reduction: 'add'});
  }
  return out;
}

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
