import * as tf from '@tensorflow/tfjs';
import {canCaptureSteps} from '../backend/step-record.js';
import {CapturedSteps, type GraphStepReport} from './graph-step.js';

/**
 * Whether inference forward passes may be captured and replayed as TensorFlow functions: on
 * tfjs-node built with registerGraphFunction, unless `DSK_GRAPH_FORWARD=0` (as `DSK_GRAPH_STEP=0`
 * turns off captured training steps).
 */
export function graphForwardEnabled(value?: string): boolean {
  // The backend first: the browser runtime has no `process`.
  return canCaptureSteps() && (value ?? process.env.DSK_GRAPH_FORWARD) !== '0';
}

export interface GraphForwardOptions {
  /** Called once, with the reason, when passes stop being captured and run op by op. */
  onFallback?: (reason: string) => void;
  /**
   * Rows of the passes that are captured; a pass of another size (a ragged last batch, a small
   * served batch) runs op by op, so a stream of odd sizes never makes one function per size.
   * Default: any size (up to four shapes, see CapturedSteps).
   */
  batchSize?: number;
  /**
   * What a pass returns, from the model's output and the pass's extra inputs (targets): a loss sum
   * computed inside the captured function instead of op by op after it, and only it read back.
   * Default: the model's output.
   */
  reduce?: (output: tf.Tensor, extras: readonly tf.Tensor[]) => tf.Tensor;
}

/**
 * A model's inference forward pass (`apply` with training off), captured and replayed as one
 * TensorFlow function per input shape on tfjs-node, as training steps are (graph-step.ts): the
 * batch is the function's input, the weights are captures. The first passes of a shape run op by op
 * (one runs, two are recorded and compared); later ones are one call (MoE layers route with
 * TensorFlow ops while recorded). A model that reads a value back during its forward pass (an MoE
 * with a balancing bias or group-limited routing) runs op by op throughout, as does any model on
 * wasm or cpu or with `DSK_GRAPH_FORWARD=0`; op by op is `model.predict`. Weights changed after the
 * capture (training, `setWeights`) make the captured function stale: that shape then runs op by op.
 */
export class GraphForward {
  private readonly steps?: CapturedSteps<null>;
  private readonly batchSize?: number;
  private readonly reduce: (output: tf.Tensor, extras: readonly tf.Tensor[]) => tf.Tensor;

  constructor(
    private readonly model: tf.LayersModel,
    options: GraphForwardOptions = {},
  ) {
    if (graphForwardEnabled()) this.steps = new CapturedSteps<null>(options.onFallback);
    this.batchSize = options.batchSize;
    this.reduce = options.reduce ?? ((output) => output);
  }

  /** Whether passes of `rows` rows may be captured (else they run op by op). */
  captures(rows: number): boolean {
    return this.steps !== undefined && (this.batchSize === undefined || rows === this.batchSize);
  }

  /**
   * The model's output on `inputs` ([batch, length] token ids → [batch, length, vocab] logits), or
   * with `reduce` what it makes of that output and `extras` (tensors of the same batch).
   */
  predict(inputs: tf.Tensor, ...extras: tf.Tensor[]): tf.Tensor {
    if (!this.steps || !this.captures(inputs.shape[0]!)) {
      return tf.tidy(() => this.reduce(this.model.predict(inputs) as tf.Tensor, extras));
    }
    const pass = () =>
      tf.tidy(() => this.reduce(this.model.apply(inputs, {training: false}) as tf.Tensor, extras));
    return this.steps.run([inputs, ...extras], () => ({tensors: [pass()], layout: null})).tensors[0]!;
  }

  /** Passes replayed and run op by op so far, and why (undefined when capture is off). */
  report(): GraphStepReport | undefined {
    return this.steps?.report();
  }

  /** Removes the captured functions from TensorFlow's context. */
  dispose(): void {
    this.steps?.dispose();
  }
}

/** The notice a caller's onInfo gets when forward passes cannot be captured. */
export function forwardFallbackNotice(reason: string): string {
  return `note: forward passes run op by op (not captured as one TensorFlow function): ${reason}`;
}

/**
 * Full batches below which a caller does not capture: the first three passes of a shape run op by
 * op (two of them recorded, which costs more than a plain pass), so a capture pays only over more.
 */
export const MIN_CAPTURED_PASSES = 8;

/**
 * A GraphForward over passes of `batchSize` rows, for a caller about to run `passes` of them; none
 * when capture is off or the passes are too few to pay (MIN_CAPTURED_PASSES). The caller disposes it.
 */
export function forwardForPasses(
  model: tf.LayersModel,
  batchSize: number,
  passes: number,
  onInfo?: (message: string) => void,
  reduce?: GraphForwardOptions['reduce'],
): GraphForward | undefined {
  if (passes < MIN_CAPTURED_PASSES || !graphForwardEnabled()) return undefined;
  return new GraphForward(model, {
    batchSize,
    onFallback: (r) => onInfo?.(forwardFallbackNotice(r)),
    ...(reduce ? {reduce} : {}),
  });
}
