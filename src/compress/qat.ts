import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../errors.js';
import type {TrainHook} from '../train/train-options.js';
import {decodeWeightData, type EncodeOptions, encodeWeights, type NamedWeight} from './weight-codec.js';

/** Encodings quantization-aware training can simulate: the integer ones (float16 loses too little to need it). */
export const QAT_DTYPES = ['int8', 'int4', 'uint8'] as const;
export type QatDtype = (typeof QAT_DTYPES)[number];

interface Target {
  variable: tf.LayerVariable;
  /** The float master value while the variable holds its quantized copy. */
  master?: tf.Tensor;
}

/**
 * The values a loader of the encoded weight gets back (encode, then decode, with the export's own
 * codec), or undefined when the encoding keeps this weight float32 (norms, routers, vectors, int32).
 */
export function fakeQuantize(weight: NamedWeight, options: EncodeOptions): Float32Array | undefined {
  const {specs, data, rows} = encodeWeights([weight], options);
  if (rows[0]?.kept !== undefined) return undefined;
  const decoded = decodeWeightData(specs, data.buffer as ArrayBuffer);
  const tensors = tf.io.decodeWeights(decoded.data, decoded.specs);
  const values = Object.values(tensors)[0]!;
  const out = values.dataSync() as Float32Array;
  values.dispose();
  return out;
}

/**
 * Quantization-aware training with float master weights and straight-through gradients: each
 * training forward pass runs on the weights as `quantize --dtype D` would store them, the gradient
 * taken there is applied to the float masters. Pass `hook` in the trainer's `hooks`; it puts the
 * float masters back when training ends or fails. Weights the encoding keeps in float32
 * (norms, routers, biases) train as usual.
 */
export class QuantAwareTraining {
  private readonly targets: Target[];

  constructor(
    model: tf.LayersModel,
    private readonly options: EncodeOptions,
  ) {
    if (!(QAT_DTYPES as readonly string[]).includes(options.dtype)) {
      throw new ConfigError(
        `quantization-aware training simulates ${QAT_DTYPES.join(', ')}, not ${options.dtype}`,
        'float16 export loses too little to need it: fine-tune without --qat',
      );
    }
    this.targets = model.trainableWeights
      .filter((v) => v.dtype === 'float32' && v.shape.length >= 2)
      .filter((v) => fakeQuantize(probe(v), options) !== undefined)
      .map((variable) => ({variable}));
  }

  /** Names of the weights trained through fake quantization. */
  get weightNames(): string[] {
    return this.targets.map((t) => t.variable.originalName);
  }

  /**
   * For the trainer's `hooks`: forward passes (training and validation) run on the quantized
   * weights, and the float masters are back in place whenever the optimizer or anything else reads them.
   */
  readonly hook: TrainHook = {
    beforeStep: () => this.quantize(),
    beforeUpdate: () => this.restore(),
    beforeEval: () => this.quantize(),
    afterEval: () => this.restore(),
    end: () => this.restore(),
  };

  /** Puts the float master weights back (no-op when they are in place). */
  restore(): void {
    for (const t of this.targets) {
      if (!t.master) continue;
      t.variable.write(t.master);
      t.master.dispose();
      t.master = undefined;
    }
  }

  /** Swaps each target's value for its quantized copy, keeping the float master; idempotent. */
  quantize(): void {
    for (const t of this.targets) {
      if (t.master) continue;
      const value = t.variable.read();
      const data = value.dataSync() as Float32Array;
      const q = fakeQuantize(
        {name: t.variable.originalName, shape: [...value.shape], dtype: 'float32', data},
        this.options,
      )!;
      t.master = tf.keep(value.clone());
      const quantized = tf.tensor(q, value.shape, 'float32');
      t.variable.write(quantized);
      quantized.dispose();
    }
  }
}

/** A stand-in of the variable's name and shape for deciding whether the encoding quantizes it. */
function probe(v: tf.LayerVariable): NamedWeight {
  const size = v.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  const data = new Float32Array(size).fill(1);
  return {name: v.originalName, shape: v.shape as number[], dtype: 'float32', data};
}
