import * as tf from '@tensorflow/tfjs';
import {CapturedSteps, type GraphStepReport, graphStepsEnabled} from './graph-step.js';

export interface GraphForwardOptions {
  /** Called once, with the reason, when passes stop being captured and run op by op. */
  onFallback?: (reason: string) => void;
}

/**
 * A model's inference forward pass (`apply` with training off), captured and replayed as one
 * TensorFlow function per input shape on tfjs-node, as training steps are (graph-step.ts): the
 * batch is the function's input, the weights are captures. The first passes of a shape run op by op
 * (one runs, two are recorded and compared); later ones are one call (MoE layers route with
 * TensorFlow ops while recorded). A model that reads a value back during its forward pass (an MoE
 * with a balancing bias or group-limited routing) runs op by op throughout, as does any model on
 * wasm or cpu or with `DSK_GRAPH_STEP=0`. Weights changed after the capture (training,
 * `setWeights`) make the captured function stale: that shape then runs op by op.
 */
export class GraphForward {
  private readonly steps?: CapturedSteps<null>;

  constructor(
    private readonly model: tf.LayersModel,
    options: GraphForwardOptions = {},
  ) {
    if (graphStepsEnabled()) this.steps = new CapturedSteps<null>(options.onFallback);
  }

  /** The model's output on `inputs` ([batch, length] token ids → [batch, length, vocab] logits). */
  predict(inputs: tf.Tensor): tf.Tensor {
    const forward = () => tf.tidy(() => this.model.apply(inputs, {training: false}) as tf.Tensor);
    if (!this.steps) return forward();
    return this.steps.run([inputs], () => ({tensors: [forward()], layout: null})).tensors[0]!;
  }

  /** Passes replayed and run op by op so far, and why (undefined off tfjs-node). */
  report(): GraphStepReport | undefined {
    return this.steps?.report();
  }

  /** Removes the captured functions from TensorFlow's context. */
  dispose(): void {
    this.steps?.dispose();
  }
}
