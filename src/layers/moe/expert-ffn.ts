import * as tf from '@tensorflow/tfjs';
import {dropout} from '../../backend/dropout.js';
import {nativeOps} from '../../backend/native-ops.js';
import type {ExpertAdapters} from './expert-lora.js';
import {fastMatMul} from './fast-matmul.js';

/** The expert MLP's nonlinearity: SwiGLU (gated, three matrices) or a plain GELU/ReLU MLP (two). */
export const EXPERT_ACTIVATIONS = ['swiglu', 'gelu', 'relu'] as const;
export type ExpertActivation = (typeof EXPERT_ACTIVATIONS)[number];

/**
 * An expert's matrices, or a stack of E experts' with a leading [E] axis. `gate` exists only for
 * SwiGLU.
 */
export interface ExpertWeights {
  /** [(E,) d, hidden] gate projection, SwiGLU only. */
  gate?: tf.Tensor;
  /** [(E,) d, hidden] up projection. */
  up: tf.Tensor;
  /** [(E,) hidden, d] down projection. */
  down: tf.Tensor;
  /** LoRA adapters on some projections, stacked as the weights are (see ExpertLoRA). */
  lora?: ExpertAdapters;
}

/** The projections of an expert MLP. */
export type ExpertProjection = 'gate' | 'up' | 'down';

/** The weight names each activation needs, in the order `build` creates them. */
export function expertWeightNames(activation: ExpertActivation): ExpertProjection[] {
  return activation === 'swiglu' ? ['gate', 'up', 'down'] : ['up', 'down'];
}

/** Exact GELU (Hendrycks & Gimpel 2016): x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * SwiGLU's gating, silu(g) ⊙ u = g·σ(g)·u. On tfjs-node its gradient is written out — du = dy·g·σ,
 * dg = dy·u·(σ + g·σ·(1 − σ)) — as 6 ops instead of the ~13 tfjs's autograd emits for the composed
 * ops (three products' gradients with a cast each, and σ's); elsewhere the composed ops run.
 */
export function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  if (!nativeOps('rows')) return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
  return swigluOp(g, u);
}

const swigluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [g, u, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const s = tf.sigmoid(g);
  const a = tf.mul(g, s); // silu(g)
  save([u, s, a]);
  return {
    value: tf.mul(a, u),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [su, ss, sa] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const dsilu = tf.add(ss, tf.mul(sa, tf.sub(1, ss))); // σ + g·σ·(1 − σ)
      return [tf.mul(tf.mul(dy, su), dsilu), tf.mul(dy, sa)];
    },
  };
}) as (g: tf.Tensor, u: tf.Tensor) => tf.Tensor;

/** The product an expert MLP uses: input rows times a (stacked) weight matrix. Default fastMatMul. */
export type ExpertMatMul = (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

const plainMatMul: ExpertMatMul = (a, b) => fastMatMul(a as tf.Tensor2D, b as tf.Tensor2D);

/**
 * The expert MLP, bias-free as in LLaMA and DeepSeek: for SwiGLU (Shazeer 2020)
 * `(silu(x·Wg) ⊙ (x·Wu))·Wd`, else `act(x·Wu)·Wd`. x [n, d] → [n, d] for one expert, or
 * x [E, n, d] → [E, n, d] for a stack (a batched matmul runs all E at once), or with a grouped
 * `matMul` (rows grouped by expert, see groupedMatMul) x [R, d] → [R, d] and stacked weights. A
 * projection with a LoRA adapter adds scale·(drop(x)·A)·B (Hu et al. 2021), per expert of the stack.
 */
export function expertFfn<T extends tf.Tensor>(
  x: T,
  w: ExpertWeights,
  activation: ExpertActivation,
  mm: ExpertMatMul = plainMatMul,
): T {
  return tf.tidy(() => {
    const project = (input: tf.Tensor, name: ExpertProjection) => {
      const y = mm(input, w[name]!);
      const lora = w.lora?.[name];
      if (!lora) return y;
      const adapterIn = lora.dropout > 0 ? dropout(input, lora.dropout) : input;
      return tf.add(y, tf.mul(mm(mm(adapterIn, lora.a), lora.b), lora.scale)); // [(E,) n, out]
    };
    let h: tf.Tensor;
    if (activation === 'swiglu') {
      if (!w.gate) throw new Error('expertFfn: SwiGLU needs a gate matrix');
      h = swiglu(project(x, 'gate'), project(x, 'up')); // [(E,) n, hidden]
    } else if (activation === 'relu') {
      h = tf.relu(project(x, 'up'));
    } else {
      h = gelu(project(x, 'up'));
    }
    return project(h, 'down') as T; // [(E,) n, d]
  });
}

/** Expert `e` of a stack, as 2-D matrices (its adapters too). */
export function sliceExpert(stack: ExpertWeights, e: number): ExpertWeights {
  const take = (w: tf.Tensor) => tf.squeeze(tf.slice(w, [e, 0, 0], [1, -1, -1]), [0]);
  return mapExpertWeights(stack, take);
}

/** `stack` with `f` applied to every stacked tensor: the weights and the adapters' A and B. */
export function mapExpertWeights(stack: ExpertWeights, f: (w: tf.Tensor) => tf.Tensor): ExpertWeights {
  const out: ExpertWeights = {gate: stack.gate && f(stack.gate), up: f(stack.up), down: f(stack.down)};
  if (stack.lora) {
    out.lora = Object.fromEntries(
      Object.entries(stack.lora).map(([name, ad]) => [name, {...ad, a: f(ad.a), b: f(ad.b)}]),
    );
  }
  return out;
}
