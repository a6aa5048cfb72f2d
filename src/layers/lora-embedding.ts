import * as tf from '@tensorflow/tfjs';
import {ConfigError, ModelError} from '../errors.js';
import {baseLayerArgs, checkChoice, checkInt, type LayerArgs} from './arg-checks.js';
import {type LoRASpec, loraScale, type ResolvedLoRASpec, resolveLoRASpec, setChecked} from './lora-dense.js';
import {firstInput, firstShape} from './shapes.js';
import {embedLookup, TokenEmbedding} from './token-embedding.js';

/**
 * The embedding class LoRAEmbedding wraps and fuses back to: tfjs's Embedding or TokenEmbedding.
 * Lower-case words, since tfjs snake_cases string config values on save and camelCases them on load.
 */
export const EMBEDDING_BASES = ['embedding', 'token'] as const;
export type EmbeddingBase = (typeof EMBEDDING_BASES)[number];
const BASE_OF_CLASS: Record<string, EmbeddingBase> = {Embedding: 'embedding', TokenEmbedding: 'token'};

export interface LoRAEmbeddingArgs extends LoRASpec, LayerArgs {
  /** Number of token ids. */
  vocabSize: number;
  /** Embedding width. */
  dModel: number;
  /** The class `fuse()` returns: 'embedding' (tfjs Embedding) or 'token' (TokenEmbedding). Default 'token'. */
  base?: EmbeddingBase;
}

/**
 * An embedding table E [V, d] (frozen) plus a low-rank update: y = E[ids] + scale·A[ids]·B, with
 * A [V, r] random and B [r, d] zero, so a fresh adapter looks up exactly E. The adapter's "input" is
 * a one-hot token, so `dropout` does not apply here and must be 0.
 */
export class LoRAEmbedding extends tf.layers.Layer {
  static className = 'LoRAEmbedding';
  readonly vocabSize: number;
  readonly dModel: number;
  readonly base: EmbeddingBase;
  readonly lora: ResolvedLoRASpec;
  private table?: tf.LayerVariable;
  private loraA?: tf.LayerVariable;
  private loraB?: tf.LayerVariable;

  constructor(args: LoRAEmbeddingArgs) {
    super(args);
    this.vocabSize = checkInt('LoRAEmbedding', 'vocabSize', args.vocabSize, 1);
    this.dModel = checkInt('LoRAEmbedding', 'dModel', args.dModel, 1);
    this.base = checkChoice('LoRAEmbedding', 'base', args.base ?? 'token', EMBEDDING_BASES);
    this.lora = resolveLoRASpec('LoRAEmbedding', args);
    if (this.lora.dropout !== 0)
      throw new ConfigError('LoRAEmbedding: dropout must be 0 (the adapter input is a token id)');
  }

  /**
   * An unbuilt LoRAEmbedding that stands in for a tfjs Embedding or TokenEmbedding: its name and
   * table size, with a fresh adapter. Apply it where `layer` was and copy the table over by name
   * (`<name>/embeddings`), as `applyLoRA` does.
   */
  static around(layer: tf.layers.Layer, spec: LoRASpec): LoRAEmbedding {
    const base = BASE_OF_CLASS[layer.getClassName()];
    if (!base) {
      throw new ConfigError(
        `LoRAEmbedding: layer '${layer.name}' is a ${layer.getClassName()}, not an Embedding or TokenEmbedding`,
      );
    }
    const cfg = layer.getConfig();
    if (cfg.maskZero) {
      throw new ConfigError(`LoRAEmbedding: layer '${layer.name}' uses maskZero, which LoRA does not keep`);
    }
    const [vocabSize, dModel] =
      base === 'token'
        ? [cfg.vocabSize as number, cfg.dModel as number]
        : [cfg.inputDim as number, cfg.outputDim as number];
    return new LoRAEmbedding({...baseLayerArgs(cfg), ...spec, dropout: 0, vocabSize, dModel, base});
  }

  /** Wraps a built tfjs Embedding or TokenEmbedding: copies its table (frozen), keeps its name. */
  static fromEmbedding(layer: tf.layers.Layer, spec: LoRASpec): LoRAEmbedding {
    const lora = LoRAEmbedding.around(layer, spec);
    if (!layer.built)
      throw new ModelError(`LoRAEmbedding.fromEmbedding: layer '${layer.name}' is not built yet`);
    lora.build();
    lora.setBaseWeights([layer.getWeights()[0]!]);
    return lora;
  }

  override build(): void {
    this.loraA = this.addWeight(
      'lora_a',
      [this.vocabSize, this.lora.rank],
      'float32',
      tf.initializers.randomNormal({mean: 0, stddev: 1 / Math.sqrt(this.lora.rank)}),
    );
    this.loraB = this.addWeight('lora_b', [this.lora.rank, this.dModel], 'float32', tf.initializers.zeros());
    // 'embeddings', as both base classes name it, so the base weight keeps its saved name.
    this.table = this.addWeight(
      'embeddings',
      [this.vocabSize, this.dModel],
      'float32',
      tf.initializers.randomNormal({mean: 0, stddev: 0.02}),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...firstShape(inputShape), this.dModel];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = firstInput(inputs);
      const update = tf.matMul(
        tf.reshape(embedLookup(this.loraA!.read(), ids), [-1, this.lora.rank]),
        this.loraB!.read(),
      );
      const delta = tf.reshape(tf.mul(update, loraScale(this.lora)), [...ids.shape, this.dModel]);
      return tf.add(embedLookup(this.table!.read(), ids), delta);
    });
  }

  /** Sets the frozen table [V, d]. */
  setBaseWeights(weights: tf.Tensor[]): void {
    setChecked(this.name, [this.table!], weights);
  }

  /** Sets [A [V, r], B [r, d]]. */
  setAdapterWeights(weights: tf.Tensor[]): void {
    setChecked(this.name, [this.loraA!, this.loraB!], weights);
  }

  /** [A, B] as new tensors. */
  getAdapterWeights(): tf.Tensor[] {
    return [this.loraA!.read().clone(), this.loraB!.read().clone()];
  }

  /** Names of the frozen base weights, in the order of `mergedWeights`. */
  baseWeightNames(): string[] {
    return [this.table!.originalName];
  }

  /** [E + scale·A·B]: the table of the equivalent plain embedding. */
  mergedWeights(): tf.Tensor[] {
    return [
      tf.tidy(() =>
        tf.add(
          this.table!.read(),
          tf.mul(tf.matMul(this.loraA!.read(), this.loraB!.read()), loraScale(this.lora)),
        ),
      ),
    ];
  }

  /**
   * The unbuilt plain embedding of the base class this layer fuses to (same name and size): apply it
   * where this layer was and give it `mergedWeights()`, by name, as `fuseLoRA` does.
   */
  plainLayer(): tf.layers.Layer {
    const {vocabSize, dModel} = this;
    const args = baseLayerArgs(this.getConfig());
    return this.base === 'token'
      ? new TokenEmbedding({...args, vocabSize, dModel})
      : tf.layers.embedding({...args, inputDim: vocabSize, outputDim: dModel});
  }

  /** A plain built embedding of the base class with the adapter merged into its table. */
  fuse(): tf.layers.Layer {
    const layer = this.plainLayer();
    layer.build([null]);
    const merged = this.mergedWeights();
    layer.setWeights(merged);
    tf.dispose(merged);
    return layer;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      dModel: this.dModel,
      base: this.base,
      ...this.lora,
    };
  }
}
tf.serialization.registerClass(LoRAEmbedding);
