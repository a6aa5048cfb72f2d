import * as tf from '@tensorflow/tfjs';
import {checkInt, type LayerArgs} from './arg-checks.js';
import {CompositeLayer} from './composite-layer.js';
import {applyRows} from './dense-rows.js';
import {firstInput, firstShape} from './shapes.js';
import {siluGate} from './silu-gate.js';
import {loraConfig, projection, resolveSublayerLoRA, type SublayerLoRA} from './sublayer-lora.js';

export interface SwiGLUArgs extends LayerArgs {
  /** Hidden size of the gate and up projections. */
  hidden: number;
  /** Biases on the projections. Default false (PaLM, LLaMA). */
  useBias?: boolean;
  /** LoRA adapters on some of `gate`, `up`, `down`. Default none. */
  lora?: SublayerLoRA | null;
}

const SITES = ['gate', 'up', 'down'] as const;

/**
 * Gated feed-forward (Shazeer 2020, "GLU Variants Improve Transformer"):
 * down(silu(gate(x)) · up(x)), [..., d] → [..., d]. Child layers `gate`, `up`, `down`.
 */
export class SwiGLU extends CompositeLayer {
  static className = 'SwiGLU';
  readonly hidden: number;
  readonly useBias: boolean;
  readonly lora: SublayerLoRA | null;

  constructor(args: SwiGLUArgs) {
    super(args);
    this.hidden = checkInt('SwiGLU', 'hidden', args.hidden, 1);
    this.useBias = args.useBias ?? false;
    this.lora = resolveSublayerLoRA('SwiGLU', args.lora, SITES);
  }

  loraSites(): string[] {
    return [...SITES];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = firstShape(inputShape);
    const common = {useBias: this.useBias, lora: this.lora};
    this.addChild('gate', projection({name: 'gate', units: this.hidden, ...common}), shape);
    this.addChild('up', projection({name: 'up', units: this.hidden, ...common}), shape);
    const hiddenShape = [...shape.slice(0, -1), this.hidden];
    this.addChild('down', projection({name: 'down', units: shape.at(-1)!, ...common}), hiddenShape);
    this.nameChildWeights();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const [gate, up, down] = SITES.map((p) => this.sublayers().get(p)!);
      // On [tokens, d]: Dense transposes its kernel on every call with a rank-3 input.
      const rows = tf.reshape(x, [-1, x.shape.at(-1)!]) as tf.Tensor2D;
      const h = siluGate(applyRows(gate!, rows, kwargs), applyRows(up!, rows, kwargs)); // silu(g) · up
      return tf.reshape(applyRows(down!, h as tf.Tensor2D, kwargs), x.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), hidden: this.hidden, useBias: this.useBias, lora: loraConfig(this.lora)};
  }
}
tf.serialization.registerClass(SwiGLU);
