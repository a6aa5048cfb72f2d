import * as tf from '@tensorflow/tfjs';
import {loraScale, type ResolvedLoRASpec, setChecked} from '../lora-dense.js';
import {type ExpertActivation, type ExpertProjection, expertWeightNames} from './expert-ffn.js';

/**
 * A low-rank update on one expert projection, or on a stack of E of them: the projection computes
 * x·W + scale·(drop(x)·A)·B. A [(E,) in, r], B [(E,) r, out].
 */
export interface ExpertAdapter {
  a: tf.Tensor;
  b: tf.Tensor;
  scale: number;
  /** Dropout rate on the adapter's input; 0 outside training. */
  dropout: number;
}

/** The adapters of an expert MLP (or a stack), by projection. */
export type ExpertAdapters = Partial<Record<ExpertProjection, ExpertAdapter>>;

/**
 * The MoE projections that can take LoRA, as paths relative to the MoE: `experts/<p>` for the
 * routed stack and `shared/<p>` for the shared experts (when there are any), p in gate/up/down
 * (gate for SwiGLU only). The router has none: its logits choose experts, and adapting them would
 * re-route the base model's tokens.
 */
export function moeLoRASites(activation: ExpertActivation, numShared: number): string[] {
  const names = expertWeightNames(activation);
  return [...names.map((p) => `experts/${p}`), ...(numShared > 0 ? names.map((p) => `shared/${p}`) : [])];
}

/**
 * The LoRA adapter of one MoE projection (`experts/down`…): its frozen base W [(E,) in, out] and
 * A [(E,) in, r], B [(E,) r, out], one independent adapter per routed expert. B starts at zero, so a
 * fresh adapter changes nothing. The MoE creates the variables; this holds the adapter's math.
 */
export class ExpertLoRA {
  constructor(
    /** Path relative to the MoE, `experts/down`. */
    readonly site: string,
    readonly spec: ResolvedLoRASpec,
    private readonly base: tf.LayerVariable,
    private readonly loraA: tf.LayerVariable,
    private readonly loraB: tf.LayerVariable,
  ) {}

  /** The adapter as the expert MLP applies it; dropout only in training. */
  adapter(training: boolean): ExpertAdapter {
    return {
      a: this.loraA.read(),
      b: this.loraB.read(),
      scale: loraScale(this.spec),
      dropout: training ? this.spec.dropout : 0,
    };
  }

  /** [A, B] as new tensors. */
  getAdapterWeights(): tf.Tensor[] {
    return [this.loraA.read().clone(), this.loraB.read().clone()];
  }

  /** Sets [A, B]; a wrong shape is a ModelError naming `owner`'s site and both shapes. */
  setAdapterWeights(owner: string, weights: tf.Tensor[]): void {
    setChecked(`${owner}/${this.site}`, [this.loraA, this.loraB], weights);
  }

  /** The frozen base weight's shape, [(E,) in, out]. */
  baseShape(): number[] {
    return this.base.shape as number[];
  }

  baseWeightName(): string {
    return this.base.originalName;
  }

  /** W + scale·A·B, [(E,) in, out]: the base weight with the adapter merged in (a new tensor). */
  mergedWeight(): tf.Tensor {
    return tf.tidy(() =>
      tf.add(this.base.read(), tf.mul(tf.matMul(this.loraA.read(), this.loraB.read()), loraScale(this.spec))),
    );
  }
}
