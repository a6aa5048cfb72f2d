import * as tf from '@tensorflow/tfjs';
import {dropout} from '../backend/dropout.js';
import {ConfigError, ModelError} from '../errors.js';
import {
  baseLayerArgs,
  checkChoice,
  checkInt,
  checkPositive,
  checkRange,
  type LayerArgs,
} from './arg-checks.js';
import {firstInput, firstShape} from './shapes.js';

/** The activations tfjs's Dense accepts, by their config name. */
export const DENSE_ACTIVATIONS = [
  'elu',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

/** Activations whose Dense layer runs one fused matmul+bias kernel (tfjs-layers core.ts). */
const FUSED_BY_DENSE = new Set<string>(['relu', 'linear', 'elu']);

/** How an adapter is shaped and scaled; shared by LoRADense, LoRAEmbedding and composite layers. */
export interface LoRASpec {
  /** Rank r of the update A·B. Integer >= 1. */
  rank: number;
  /** The update is scaled by alpha/r (alpha/sqrt(r) with rslora). Default: rank, so scale 1. */
  alpha?: number;
  /** Rank-stabilised scaling alpha/sqrt(r) (Kalajdzievski 2023), so larger ranks still learn. Default false. */
  rslora?: boolean;
  /** Dropout rate on the adapter's input, in training only. Default 0. */
  dropout?: number;
}

export type ResolvedLoRASpec = Required<LoRASpec>;

/** Fills defaults and checks ranges; `owner` names the layer in error messages. */
export function resolveLoRASpec(owner: string, spec: LoRASpec): ResolvedLoRASpec {
  const rank = checkInt(owner, 'rank', spec.rank, 1);
  return {
    rank,
    alpha: checkPositive(owner, 'alpha', spec.alpha ?? rank),
    rslora: spec.rslora ?? false,
    dropout: checkRange(owner, 'dropout', spec.dropout ?? 0, 0, 1, false),
  };
}

/** The factor applied to A·B. */
export function loraScale(spec: ResolvedLoRASpec): number {
  return spec.rslora ? spec.alpha / Math.sqrt(spec.rank) : spec.alpha / spec.rank;
}

export interface LoRADenseArgs extends LoRASpec, LayerArgs {
  /** Output size, as Dense `units`. */
  units: number;
  /** Activation after the sum, as Dense. Default 'linear'. */
  activation?: DenseActivation;
  /** Whether the frozen base has a bias. Default true (as Dense). */
  useBias?: boolean;
}

/**
 * Dense with a low-rank adapter (Hu et al. 2021, "LoRA"): y = act(x·W + b + scale·(drop(x)·A)·B).
 * W [in, units] and b are frozen; A [in, r] starts uniform in ±1/sqrt(in) and B [r, units] at zero,
 * so a fresh adapter computes exactly the base layer. `LoRADense.around(dense)` stands in for a
 * Dense (`fromDense` also copies its weights), and `plainLayer()` / `fuse()` give the Dense back.
 */
export class LoRADense extends tf.layers.Layer {
  static className = 'LoRADense';
  readonly units: number;
  readonly activation: DenseActivation;
  readonly useBias: boolean;
  readonly lora: ResolvedLoRASpec;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  private loraA?: tf.LayerVariable;
  private loraB?: tf.LayerVariable;
  private readonly activationLayer: tf.layers.Layer;

  constructor(args: LoRADenseArgs) {
    super(args);
    this.units = checkInt('LoRADense', 'units', args.units, 1);
    this.activation = checkChoice('LoRADense', 'activation', args.activation ?? 'linear', DENSE_ACTIVATIONS);
    this.useBias = args.useBias ?? true;
    this.lora = resolveLoRASpec('LoRADense', args);
    this.activationLayer = tf.layers.activation({activation: this.activation});
  }

  /**
   * An unbuilt LoRADense that stands in for `dense`: its name, units, activation, bias and input
   * shape, with a fresh adapter. Apply it where `dense` was, then copy the base weights over by name
   * (`<name>/kernel`, `<name>/bias`): what `applyLoRA` does across a model.
   */
  static around(dense: tf.layers.Layer, spec: LoRASpec): LoRADense {
    if (dense.getClassName() !== 'Dense') {
      throw new ConfigError(`LoRADense: layer '${dense.name}' is a ${dense.getClassName()}, not a Dense`);
    }
    const cfg = dense.getConfig();
    return new LoRADense({
      ...baseLayerArgs(cfg),
      ...spec,
      units: cfg.units as number,
      activation: toActivationName(cfg.activation),
      useBias: cfg.useBias as boolean,
    });
  }

  /** Wraps a built Dense: copies its kernel and bias (frozen) and keeps its name and activation. */
  static fromDense(dense: tf.layers.Layer, spec: LoRASpec): LoRADense {
    if (!dense.built && dense.getClassName() === 'Dense') {
      throw new ModelError(
        `LoRADense.fromDense: layer '${dense.name}' is not built yet — call it once first`,
      );
    }
    const layer = LoRADense.around(dense, spec);
    const [kernel, bias] = dense.getWeights();
    layer.build([null, kernel!.shape[0]!]);
    layer.setBaseWeights(bias ? [kernel!, bias] : [kernel!]);
    return layer;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = firstShape(inputShape);
    const inDim = shape.at(-1);
    if (inDim == null)
      throw new ModelError(`LoRADense '${this.name}': the last input dimension must be known`);
    const {rank} = this.lora;
    const bound = 1 / Math.sqrt(inDim);
    this.loraA = this.addWeight(
      'lora_a',
      [inDim, rank],
      'float32',
      tf.initializers.randomUniform({minval: -bound, maxval: bound}),
    );
    this.loraB = this.addWeight('lora_b', [rank, this.units], 'float32', tf.initializers.zeros());
    this.kernel = this.addWeight(
      'kernel',
      [inDim, this.units],
      'float32',
      tf.initializers.glorotUniform({}),
      undefined,
      false,
    );
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros(), undefined, false);
    }
    this.inputSpec = [{minNDim: 2, axes: {[-1]: inDim}}];
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = firstShape(inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const inDim = x.shape.at(-1)!;
      const flat = x.reshape([-1, inDim]); // [tokens, in]
      // The same kernels Dense uses (bias fused into the matmul only where Dense fuses its
      // activation), so a fresh adapter reproduces the base bit for bit.
      const fusesBias = FUSED_BY_DENSE.has(this.activation);
      let y = tf.fused.matMul({
        a: flat,
        b: this.kernel!.read(),
        bias: fusesBias ? this.bias?.read() : undefined,
      });
      if (this.bias && !fusesBias) y = tf.add(y, this.bias.read());
      const adapterIn = kwargs?.training && this.lora.dropout > 0 ? dropout(flat, this.lora.dropout) : flat;
      const update = tf.matMul(tf.matMul(adapterIn, this.loraA!.read()), this.loraB!.read()); // [tokens, units]
      y = tf.add(y, tf.mul(update, loraScale(this.lora)));
      y = y.reshape([...x.shape.slice(0, -1), this.units]);
      return this.activationLayer.apply(y) as tf.Tensor;
    });
  }

  /** Sets the frozen base weights, in Dense order: [kernel] or [kernel, bias]. */
  setBaseWeights(weights: tf.Tensor[]): void {
    const targets = this.useBias ? [this.kernel!, this.bias!] : [this.kernel!];
    setChecked(this.name, targets, weights);
  }

  /** Sets [A, B]. */
  setAdapterWeights(weights: tf.Tensor[]): void {
    setChecked(this.name, [this.loraA!, this.loraB!], weights);
  }

  /** [A [in, r], B [r, units]] as new tensors. */
  getAdapterWeights(): tf.Tensor[] {
    return [this.loraA!.read().clone(), this.loraB!.read().clone()];
  }

  /** Names of the frozen base weights, in the order of `mergedWeights`. */
  baseWeightNames(): string[] {
    return (this.bias ? [this.kernel!, this.bias] : [this.kernel!]).map((w) => w.originalName);
  }

  /** The weights of the equivalent plain Dense, in its order: [W + scale·A·B] or [that, b]. */
  mergedWeights(): tf.Tensor[] {
    const kernel = tf.tidy(() =>
      tf.add(
        this.kernel!.read(),
        tf.mul(tf.matMul(this.loraA!.read(), this.loraB!.read()), loraScale(this.lora)),
      ),
    );
    return this.bias ? [kernel, this.bias.read().clone()] : [kernel];
  }

  /**
   * The unbuilt plain Dense this layer fuses to (same name, units, activation, bias, input shape):
   * apply it where this layer was and give it `mergedWeights()`, by name, as `fuseLoRA` does.
   */
  plainLayer(): tf.layers.Layer {
    return tf.layers.dense({
      ...baseLayerArgs(this.getConfig()),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
    });
  }

  /** A plain built Dense (same name, units, activation, bias) with the adapter merged into its kernel. */
  fuse(): tf.layers.Layer {
    const dense = this.plainLayer();
    dense.build([null, this.kernel!.shape[0]!]);
    const merged = this.mergedWeights();
    dense.setWeights(merged);
    tf.dispose(merged);
    return dense;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      ...this.lora,
    };
  }
}
tf.serialization.registerClass(LoRADense);

/** Dense serializes its activation as a name string; accept that (or a snake_case alias). */
function toActivationName(value: unknown): DenseActivation {
  const name = String(value ?? 'linear');
  const camel = name === 'hard_sigmoid' ? 'hardSigmoid' : name;
  return checkChoice('LoRADense', 'activation', camel, DENSE_ACTIVATIONS);
}

/** Sets variables after checking each shape; the error names the layer and both shapes. */
export function setChecked(layer: string, targets: tf.LayerVariable[], values: tf.Tensor[]): void {
  if (targets.length !== values.length) {
    throw new ModelError(`${layer}: expected ${targets.length} weights, got ${values.length}`);
  }
  targets.forEach((v, i) => {
    const got = values[i]!.shape;
    if (!tf.util.arraysEqual(v.shape as number[], got)) {
      throw new ModelError(
        `${layer}: weight ${v.originalName} has shape [${v.shape.join(', ')}], got [${got.join(', ')}]`,
      );
    }
    v.write(values[i]!);
  });
}
