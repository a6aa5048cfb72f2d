import * as tf from '@tensorflow/tfjs';
import {dropout} from '../backend/dropout.js';
import {nativeOps} from '../backend/native-ops.js';
import {ConfigError, ModelError} from '../errors.js';
import {checkDivides, checkInt, checkPositive, checkRange, type LayerArgs} from './arg-checks.js';
import {AttentionDecoder} from './attention-decode.js';
import {CompositeLayer} from './composite-layer.js';
import {applyRows, isPlainDense} from './dense-rows.js';
import {type FixedSlot, type KVCache, kvCacheLength, type RaggedRows} from './kv-cache.js';
import {fastMatMul} from './moe/fast-matmul.js';
import {applyRope} from './rope.js';
import {firstInput, firstShape} from './shapes.js';
import {loraConfig, projection, resolveSublayerLoRA, type SublayerLoRA} from './sublayer-lora.js';

export interface AttentionArgs extends LayerArgs {
  /** Model width: input and output size. */
  dModel: number;
  /** Query heads; must divide dModel unless headDim is given. */
  numHeads: number;
  /** Key/value heads (grouped-query attention, Ainslie et al. 2023); must divide numHeads. Default numHeads. */
  numKvHeads?: number;
  /**
   * Size of each head: q is numHeads·headDim wide, k and v numKvHeads·headDim, and o maps
   * numHeads·headDim back to dModel. Default dModel / numHeads; structured pruning of whole heads
   * keeps headDim and lowers numHeads, so the two no longer multiply to dModel. Even with RoPE.
   */
  headDim?: number;
  /** Biases on the q/k/v/o projections. Default false, as in LLaMA and DeepSeek. */
  useBias?: boolean;
  /** Dropout on the attention probabilities, in training only. Default 0. */
  dropout?: number;
  /** Rotary position embeddings on q and k. Default true. */
  rope?: boolean;
  /** RoPE base. Default 10000 (RoFormer). */
  ropeTheta?: number;
  /** LoRA adapters on some of the projections `q`, `k`, `v`, `o`. Default none. */
  lora?: SublayerLoRA | null;
}

const SITES = ['q', 'k', 'v', 'o'] as const;
const QKV = ['q', 'k', 'v'] as const;

/**
 * Causal multi-head self-attention with optional grouped KV heads and RoPE, on [batch, seq, dModel].
 * The projections are child layers `q`, `k`, `v`, `o` (Dense, or LoRADense where `lora` says), so
 * their weights save as `<name>/q/kernel`…  For generation, `callWithCache` runs new tokens against a
 * KV cache of the earlier ones and gives the same numbers as the full causal forward.
 */
export class Attention extends CompositeLayer {
  static className = 'Attention';
  readonly dModel: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  /** Size of each head (dModel / numHeads unless given). */
  readonly headDim: number;
  /** Width of q and of o's input: numHeads·headDim. */
  readonly qUnits: number;
  readonly useBias: boolean;
  readonly dropout: number;
  readonly rope: boolean;
  readonly ropeTheta: number;
  readonly lora: SublayerLoRA | null;
  /** Cached decoding with plain Dense projections (see attention-decode.ts). */
  private decoder?: AttentionDecoder;

  constructor(args: AttentionArgs) {
    super(args);
    this.dModel = checkInt('Attention', 'dModel', args.dModel, 1);
    this.numHeads = checkInt('Attention', 'numHeads', args.numHeads, 1);
    if (args.headDim === undefined || args.headDim === null) {
      checkDivides('Attention', 'numHeads', this.numHeads, 'dModel', this.dModel);
    }
    this.numKvHeads = checkInt('Attention', 'numKvHeads', args.numKvHeads ?? this.numHeads, 1, this.numHeads);
    checkDivides('Attention', 'numKvHeads', this.numKvHeads, 'numHeads', this.numHeads);
    this.headDim = checkInt('Attention', 'headDim', args.headDim ?? this.dModel / this.numHeads, 1);
    this.useBias = args.useBias ?? false;
    this.dropout = checkRange('Attention', 'dropout', args.dropout ?? 0, 0, 1, false);
    this.rope = args.rope ?? true;
    if (this.rope && this.headDim % 2 !== 0) {
      throw new ConfigError(
        `Attention: the head size ${args.headDim ? 'headDim' : 'dModel/numHeads'} = ${this.headDim} must be even for RoPE — change ${args.headDim ? 'headDim' : 'numHeads'} or set rope: false`,
      );
    }
    this.qUnits = this.numHeads * this.headDim;
    this.ropeTheta = checkPositive('Attention', 'ropeTheta', args.ropeTheta ?? 10000);
    this.lora = resolveSublayerLoRA('Attention', args.lora, SITES);
  }

  /** Child paths that can take a LoRA adapter. */
  loraSites(): string[] {
    return [...SITES];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = firstShape(inputShape);
    if (shape.at(-1) !== this.dModel) {
      throw new ModelError(
        `Attention '${this.name}': input last dimension ${shape.at(-1)} != dModel ${this.dModel}`,
      );
    }
    const kvUnits = this.numKvHeads * this.headDim;
    const common = {useBias: this.useBias, lora: this.lora};
    this.addChild('q', projection({name: 'q', units: this.qUnits, ...common}), shape);
    this.addChild('k', projection({name: 'k', units: kvUnits, ...common}), shape);
    this.addChild('v', projection({name: 'v', units: kvUnits, ...common}), shape);
    this.addChild('o', projection({name: 'o', units: this.dModel, ...common}), [
      ...shape.slice(0, -1),
      this.qUnits,
    ]);
    this.nameChildWeights();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: {training?: boolean}): tf.Tensor {
    return tf.tidy(() => {
      const x = firstInput<tf.Tensor3D>(inputs);
      return this.forward(x, null, kwargs?.training ?? false).output;
    });
  }

  /**
   * Attends the new tokens x [batch, t, dModel] to the cached ones and to each other (causally); the
   * first new token sits at position `kvCacheLength(cache)`. Returns the output [batch, t, dModel]
   * and a new cache holding all positions; the given cache is not disposed. Inference only.
   * With `ragged`, x is one new token per row [batch, 1, dModel] of sequences of different lengths
   * (see RaggedRows): each row is rotated at its own position and sees only its own keys.
   */
  callWithCache(
    x: tf.Tensor3D,
    cache: KVCache | null = null,
    ragged?: RaggedRows,
  ): {output: tf.Tensor3D; cache: KVCache} {
    if (!this.built) this.build(x.shape);
    if (ragged && (x.shape[1] !== 1 || ragged.positions.length !== x.shape[0])) {
      throw new ModelError(
        `Attention '${this.name}': ragged rows take one token per row, got x [${x.shape}] for ${ragged.positions.length} rows`,
      );
    }
    if (AttentionDecoder.supports(this)) {
      this.decoder ??= new AttentionDecoder(this);
      return tf.tidy(() => this.decoder!.step(x, cache, ragged));
    }
    return tf.tidy(() => {
      const {output, keys, values} = this.forward(x, cache, false, ragged);
      return {output, cache: {keys, values}};
    });
  }

  /**
   * Whether `callWithFixedCache` runs: the projections are plain Dense layers (AttentionDecoder),
   * one new token per row.
   */
  supportsFixedCache(): boolean {
    return AttentionDecoder.supports(this);
  }

  /** One token per row against a cache of fixed capacity (FixedSlot, AttentionDecoder.stepFixed); inference only. */
  callWithFixedCache(x: tf.Tensor3D, cache: KVCache, slot: FixedSlot): {output: tf.Tensor3D; cache: KVCache} {
    if (!this.built) this.build(x.shape);
    this.decoder ??= new AttentionDecoder(this);
    return tf.tidy(() => this.decoder!.stepFixed(x, cache, slot));
  }

  /** The fused kernels callWithFixedCache reads (AttentionDecoder.fixedWeights). */
  fixedCacheWeights(): tf.Tensor[] {
    this.decoder ??= new AttentionDecoder(this);
    return this.decoder.fixedWeights();
  }

  /** FixedSlot's RoPE tables for new tokens at `positions`, in this layer's fused column order. */
  fixedSlotRope(positions: readonly number[]): {cos: tf.Tensor2D; signedSin: tf.Tensor2D} {
    this.decoder ??= new AttentionDecoder(this);
    return this.decoder.slotRope(positions);
  }

  /** Frees the fused q/k/v kernel cached decoding keeps (rebuilt on the next cached call). */
  releaseDecodeWeights(): void {
    this.decoder?.dispose();
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.releaseDecodeWeights();
    return super.dispose();
  }

  private forward(
    x: tf.Tensor3D,
    cache: KVCache | null,
    training: boolean,
    ragged?: RaggedRows,
  ): {output: tf.Tensor3D; keys: tf.Tensor4D; values: tf.Tensor4D} {
    const [batch, length] = x.shape;
    const offset = kvCacheLength(cache);
    // Projections run on [b·t, d]: Dense transposes its kernel on every call with a rank-3 input.
    const rows = tf.reshape(x, [batch * length, this.dModel]);
    const heads = (y: tf.Tensor, n: number): tf.Tensor4D =>
      tf.transpose(tf.reshape(y, [batch, length, n, this.headDim]), [0, 2, 1, 3]); // [b, n, t, hd]
    const projected = this.projectQKV(rows, training);
    let q = heads(projected.q, this.numHeads);
    let k = heads(projected.k, this.numKvHeads);
    let v = heads(projected.v, this.numKvHeads);
    if (this.rope) {
      q = applyRope(q, ragged?.positions ?? offset, this.ropeTheta);
      k = applyRope(k, ragged?.positions ?? offset, this.ropeTheta);
    }
    if (cache) {
      k = tf.concat([cache.keys, k], 2);
      v = tf.concat([cache.values, v], 2);
    }
    const dot = tf.matMul(q, repeatKv(k, this.numHeads), false, true);
    const scores = projected.scaled ? dot : tf.mul(dot, 1 / Math.sqrt(this.headDim)); // [b, h, t, T]
    // A single new token sees every key of its own sequence: no mask, but the padding of ragged rows.
    const mask = ragged ? ragged.mask : length === 1 ? null : causalMask(length, offset);
    let probs = tf.softmax(mask ? tf.add(scores, mask) : scores, -1);
    if (training && this.dropout > 0) probs = dropout(probs, this.dropout);
    const context = tf.matMul(probs, repeatKv(v, this.numHeads)); // [b, h, t, hd]
    const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * length, this.qUnits]);
    const out = applyRows(this.sublayers().get('o')!, merged as tf.Tensor2D, {training});
    const output = tf.reshape(out, [batch, length, this.dModel]) as tf.Tensor3D;
    return {output, keys: k, values: v};
  }

  /**
   * q, k, v of rows [b·t, dModel] → [b·t, units] each. In training, plain Dense projections run as
   * one product with the kernels side by side [d, h·hd + 2·kv·hd]: the backward pass then takes 2 matmuls
   * instead of 6 and sums no three input gradients (bench:train: the largest saving in attention).
   * That path also folds 1/√headDim into the q kernel (`scaled`), so the scores [b, h, t, T] need
   * no multiply forward or backward. Inference keeps three products, which cost as much as the
   * concatenation would save.
   */
  private projectQKV(
    rows: tf.Tensor,
    training: boolean,
  ): {q: tf.Tensor; k: tf.Tensor; v: tf.Tensor; scaled: boolean} {
    const layers = QKV.map((p) => this.sublayers().get(p)!);
    if (!training || !layers.every(isPlainDense)) {
      const [q, k, v] = layers.map((l) => applyRows(l, rows as tf.Tensor2D, {training}));
      return {q: q!, k: k!, v: v!, scaled: false};
    }
    // A projection's weights are [kernel] or [kernel, bias] (useBias).
    const scale = 1 / Math.sqrt(this.headDim);
    const read = (w: number) =>
      layers.map((l, i) => (i === 0 ? tf.mul(l.weights[w]!.read(), scale) : l.weights[w]!.read()));
    const kernel = tf.concat(read(0), 1) as tf.Tensor2D;
    let y = nativeOps('rows') ? fastMatMul(rows as tf.Tensor2D, kernel) : tf.matMul(rows, kernel);
    if (this.useBias) y = tf.add(y, tf.concat(read(1), 0));
    const kvUnits = this.numKvHeads * this.headDim;
    const [q, k, v] = tf.split(y, [this.qUnits, kvUnits, kvUnits], 1);
    return {q: q!, k: k!, v: v!, scaled: true};
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dModel: this.dModel,
      numHeads: this.numHeads,
      numKvHeads: this.numKvHeads,
      headDim: this.headDim,
      useBias: this.useBias,
      dropout: this.dropout,
      rope: this.rope,
      ropeTheta: this.ropeTheta,
      lora: loraConfig(this.lora),
    };
  }
}
tf.serialization.registerClass(Attention);

/** [length, offset+length] additive mask: query i (position offset+i) sees keys 0 … offset+i. */
function causalMask(length: number, offset: number): tf.Tensor2D {
  const total = offset + length;
  const mask = new Float32Array(length * total);
  for (let i = 0; i < length; i++) mask.fill(-1e9, i * total + offset + i + 1, (i + 1) * total);
  return tf.tensor2d(mask, [length, total]);
}

/** Repeats each of the kv heads of x [b, kvHeads, T, hd] for its group of query heads: [b, heads, T, hd]. */
function repeatKv(x: tf.Tensor4D, heads: number): tf.Tensor4D {
  const [b, kvHeads, total, hd] = x.shape;
  if (kvHeads === heads) return x;
  // Query head h reads kv head floor(h / group). Tiled at rank 3: tile has no gradient past rank
  // 4 (so no broadcastTo at rank 5), and gather's needs UnsortedSegmentSum, which wasm lacks.
  const flat = tf.reshape(x, [b * kvHeads, 1, total * hd]);
  const grouped = tf.tile(flat, [1, heads / kvHeads, 1]); // [b·kvHeads, group, T·hd]
  return tf.reshape(grouped, [b, heads, total, hd]);
}
