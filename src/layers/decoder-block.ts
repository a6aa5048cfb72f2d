import * as tf from '@tensorflow/tfjs';
import {dropout} from '../backend/dropout.js';
import {ConfigError, ModelError} from '../errors.js';
import {checkChoice, checkInt, checkPositive, checkRange, type LayerArgs} from './arg-checks.js';
import {Attention} from './attention.js';
import {CompositeLayer} from './composite-layer.js';
import {decodeFfn} from './decode-ffn.js';
import type {FixedSlot, KVCache, RaggedRows} from './kv-cache.js';
import {moeLoRASites} from './moe/expert-lora.js';
import {resolveMoEArgs} from './moe/resolve-moe-args.js';
import {MoE, type MoEArgs} from './moe.js';
import {RMSNorm} from './rms-norm.js';
import {firstInput, firstShape} from './shapes.js';
import {childLoRA, loraConfig, resolveSublayerLoRA, type SublayerLoRA} from './sublayer-lora.js';
import {SwiGLU} from './swiglu.js';

export const FFN_KINDS = ['dense', 'moe'] as const;
export type FfnKind = (typeof FFN_KINDS)[number];

export interface DecoderBlockArgs extends LayerArgs {
  /** Model width. */
  dModel: number;
  /** Query heads; must divide dModel. */
  numHeads: number;
  /** Key/value heads (grouped-query attention); must divide numHeads. Default numHeads. */
  numKvHeads?: number;
  /** Size of each attention head. Default dModel / numHeads (see Attention). */
  headDim?: number;
  /** Feed-forward kind: a dense SwiGLU or a Mixture-of-Experts layer. Default 'dense'. */
  ffn?: FfnKind;
  /** SwiGLU hidden size for ffn 'dense'. Default 8/3·dModel rounded up to a multiple of 8 (LLaMA: same parameters as a 4·d GELU MLP). */
  ffnHidden?: number;
  /** Arguments of the MoE layer for ffn 'moe' (numExperts, topK, expertHidden…); required then. */
  moe?: Omit<MoEArgs, keyof LayerArgs> | null;
  /** RMSNorm epsilon. Default 1e-6. */
  normEps?: number;
  /** Rotary position embeddings. Default true. */
  rope?: boolean;
  /** RoPE base. Default 10000. */
  ropeTheta?: number;
  /** Biases on the attention and dense FFN projections. Default false. */
  useBias?: boolean;
  /** Dropout on the attention probabilities, in training. Default 0. */
  attnDropout?: number;
  /** Dropout on each sublayer's output before the residual add, in training. Default 0. */
  residDropout?: number;
  /**
   * LoRA on projections by path: `attn/q|k|v|o`, and `ffn/gate|up|down` (dense) or
   * `ffn/experts/gate|up|down`, `ffn/shared/gate|up|down` (MoE).
   */
  lora?: SublayerLoRA | null;
}

/**
 * Pre-norm transformer decoder block (as in LLaMA and DeepSeek-V3):
 *   h = x + attn(norm(x));  y = h + ffn(norm(h))
 * with RMSNorm, causal RoPE attention and a dense SwiGLU or MoE feed-forward. Children
 * `attn-norm`, `attn`, `ffn-norm`, `ffn`; weights save as `<name>/attn/q/kernel`…
 */
export class DecoderBlock extends CompositeLayer {
  static className = 'DecoderBlock';
  readonly dModel: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly ffn: FfnKind;
  readonly ffnHidden: number;
  readonly moe: tf.serialization.ConfigDict | null;
  readonly normEps: number;
  readonly rope: boolean;
  readonly ropeTheta: number;
  readonly useBias: boolean;
  readonly attnDropout: number;
  readonly residDropout: number;
  readonly lora: SublayerLoRA | null;
  private readonly attention: Attention;
  private readonly ffnLayer: tf.layers.Layer;

  constructor(args: DecoderBlockArgs) {
    super(args);
    this.dModel = checkInt('DecoderBlock', 'dModel', args.dModel, 1);
    this.numHeads = args.numHeads;
    this.numKvHeads = args.numKvHeads ?? args.numHeads;
    this.ffn = checkChoice('DecoderBlock', 'ffn', args.ffn ?? 'dense', FFN_KINDS);
    this.ffnHidden = checkInt(
      'DecoderBlock',
      'ffnHidden',
      args.ffnHidden ?? defaultFfnHidden(this.dModel),
      1,
    );
    if (this.ffn === 'moe' && !args.moe) {
      throw new ConfigError("DecoderBlock: ffn 'moe' needs moe arguments (numExperts, topK, expertHidden…)");
    }
    this.normEps = checkPositive('DecoderBlock', 'normEps', args.normEps ?? 1e-6);
    this.rope = args.rope ?? true;
    this.ropeTheta = args.ropeTheta ?? 10000;
    this.useBias = args.useBias ?? false;
    this.attnDropout = args.attnDropout ?? 0;
    this.residDropout = checkRange('DecoderBlock', 'residDropout', args.residDropout ?? 0, 0, 1, false);
    const sites = [...['q', 'k', 'v', 'o'].map((p) => `attn/${p}`), ...ffnLoRASites(this.ffn, args.moe)];
    this.lora = resolveSublayerLoRA('DecoderBlock', args.lora, sites);
    // Children are made here, not in build(), so that their checks fail at construction.
    this.attention = asBlockError(
      () =>
        new Attention({
          name: 'attn',
          dModel: this.dModel,
          numHeads: this.numHeads,
          numKvHeads: this.numKvHeads,
          headDim: args.headDim ?? undefined,
          useBias: this.useBias,
          dropout: this.attnDropout,
          rope: this.rope,
          ropeTheta: this.ropeTheta,
          lora: childLoRA(this.lora, 'attn'),
        }),
    );
    this.headDim = this.attention.headDim;
    if (this.ffn === 'dense') {
      const lora = childLoRA(this.lora, 'ffn');
      this.ffnLayer = new SwiGLU({name: 'ffn', hidden: this.ffnHidden, useBias: this.useBias, lora});
      this.moe = null;
    } else {
      this.ffnLayer = new MoE({...args.moe!, name: 'ffn', lora: childLoRA(this.lora, 'ffn')});
      // The MoE's adapters come from the block's `lora`, so its own config never carries them.
      const {lora: _, ...moe} = withoutLayerArgs(this.ffnLayer.getConfig());
      this.moe = moe;
    }
  }

  /** Child paths that can take a LoRA adapter. */
  loraSites(): string[] {
    const ffn = this.ffnLayer instanceof MoE ? this.ffnLayer.loraSites().map((p) => `ffn/${p}`) : FFN_SITES;
    return [...this.attention.loraSites().map((p) => `attn/${p}`), ...ffn];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = firstShape(inputShape);
    if (shape.at(-1) !== this.dModel) {
      throw new ModelError(
        `DecoderBlock '${this.name}': input last dimension ${shape.at(-1)} != dModel ${this.dModel}`,
      );
    }
    this.addChild('attn-norm', new RMSNorm({name: 'attn-norm', epsilon: this.normEps}), shape);
    this.addChild('attn', this.attention, shape);
    this.addChild('ffn-norm', new RMSNorm({name: 'ffn-norm', epsilon: this.normEps}), shape);
    this.addChild('ffn', this.ffnLayer, shape);
    this.nameChildWeights();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    return tf.tidy(() => this.forward(firstInput<tf.Tensor3D>(inputs), kwargs?.training ?? false));
  }

  /**
   * Runs new tokens x [batch, t, dModel] against the attention cache of the earlier ones (see
   * Attention.callWithCache). Returns the block output and the new cache; inference only. With
   * `ragged`, one token per row of sequences of different lengths (RaggedRows).
   */
  callWithCache(
    x: tf.Tensor3D,
    cache: KVCache | null = null,
    ragged?: RaggedRows,
  ): {output: tf.Tensor3D; cache: KVCache} {
    return this.decodeStep(x, (normed) => this.attention.callWithCache(normed, cache, ragged));
  }

  /**
   * The block around one cached attention call: norm, attention, residual, FFN, residual. Children
   * run through `call`, not `apply`: a decoding step is a few dozen tiny kernels, and apply's
   * symbolic bookkeeping would cost as much again.
   */
  private decodeStep(
    x: tf.Tensor3D,
    attend: (normed: tf.Tensor3D) => {output: tf.Tensor3D; cache: KVCache},
  ): {output: tf.Tensor3D; cache: KVCache} {
    if (!this.built) this.build(x.shape);
    return tf.tidy(() => {
      const child = (path: string) => this.sublayers().get(path)!;
      const {output: attended, cache: next} = attend(child('attn-norm').call(x, {}) as tf.Tensor3D);
      const h = tf.add(x, attended) as tf.Tensor3D;
      const ffnOut = decodeFfn(child('ffn'), child('ffn-norm').call(h, {}) as tf.Tensor3D);
      return {output: tf.add(h, ffnOut) as tf.Tensor3D, cache: next};
    });
  }

  /** Whether callWithFixedCache runs (the attention's projections are plain Dense layers). */
  supportsFixedCache(): boolean {
    return this.attention.supportsFixedCache();
  }

  /** The fused kernels callWithFixedCache reads, which a captured step takes as inputs. */
  fixedCacheWeights(): tf.Tensor[] {
    if (!this.built) throw new Error(`DecoderBlock '${this.name}' is not built`);
    return this.attention.fixedCacheWeights();
  }

  /** FixedSlot's RoPE tables for new tokens at `positions` (the attention's fused column order). */
  fixedSlotRope(positions: readonly number[]): {cos: tf.Tensor2D; signedSin: tf.Tensor2D} {
    return this.attention.fixedSlotRope(positions);
  }

  /**
   * callWithCache for one new token per row against a cache of fixed capacity (FixedSlot): the
   * shapes of every step of a capacity are the same, so the step can be captured and replayed.
   */
  callWithFixedCache(x: tf.Tensor3D, cache: KVCache, slot: FixedSlot): {output: tf.Tensor3D; cache: KVCache} {
    return this.decodeStep(x, (normed) => this.attention.callWithFixedCache(normed, cache, slot));
  }

  /** Frees the fused kernel cached decoding keeps in the attention (rebuilt on the next cached call). */
  releaseDecodeWeights(): void {
    this.attention.releaseDecodeWeights();
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.releaseDecodeWeights();
    return super.dispose();
  }

  private forward(x: tf.Tensor3D, training: boolean): tf.Tensor3D {
    const child = (path: string) => this.sublayers().get(path)!;
    const drop = (t: tf.Tensor) => (training && this.residDropout > 0 ? dropout(t, this.residDropout) : t);
    const normed = child('attn-norm').apply(x) as tf.Tensor3D;
    const attended = this.attention.apply(normed, {training}) as tf.Tensor3D;
    const h = tf.add(x, drop(attended));
    const ffnOut = child('ffn').apply(child('ffn-norm').apply(h), {training}) as tf.Tensor;
    return tf.add(h, drop(ffnOut)) as tf.Tensor3D;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dModel: this.dModel,
      numHeads: this.numHeads,
      numKvHeads: this.numKvHeads,
      headDim: this.headDim,
      ffn: this.ffn,
      ffnHidden: this.ffnHidden,
      moe: this.moe,
      normEps: this.normEps,
      rope: this.rope,
      ropeTheta: this.ropeTheta,
      useBias: this.useBias,
      attnDropout: this.attnDropout,
      residDropout: this.residDropout,
      lora: loraConfig(this.lora),
    };
  }
}
tf.serialization.registerClass(DecoderBlock);

const FFN_SITES = ['ffn/gate', 'ffn/up', 'ffn/down'];

/** The FFN paths that can take LoRA: the SwiGLU's projections, or the MoE's expert projections. */
function ffnLoRASites(ffn: FfnKind, moe: DecoderBlockArgs['moe']): string[] {
  if (ffn === 'dense') return FFN_SITES;
  const {activation, numShared} = resolveMoEArgs({...moe!});
  return moeLoRASites(activation, numShared).map((p) => `ffn/${p}`);
}

/** Reports a child's config error as the block's: the user configured the block. */
function asBlockError<T>(make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof ConfigError)
      throw new ConfigError(
        err.message.replace(/^Attention: (dropout)?/, (_, d) => `DecoderBlock: ${d ? 'attnDropout' : ''}`),
      );
    throw err;
  }
}
const LAYER_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputDType'];

/** A child's config without the base layer keys: the arguments to rebuild it under another name. */
function withoutLayerArgs(config: tf.serialization.ConfigDict): tf.serialization.ConfigDict {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !LAYER_KEYS.includes(k)));
}

/** 8/3·d rounded up to a multiple of 8: a SwiGLU with the parameters of a 4·d two-matrix MLP. */
export function defaultFfnHidden(dModel: number): number {
  return Math.ceil((8 * dModel) / 3 / 8) * 8;
}
