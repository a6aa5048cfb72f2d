import * as tf from '@tensorflow/tfjs';
import {holdWhileRecording, isRecording} from '../backend/step-record.js';
import {ModelError} from '../errors.js';
import type {LayerArgs} from './arg-checks.js';
import {resolveLoRASpec} from './lora-dense.js';
import {type DispatchPlan, expertCapacity, planDispatch} from './moe/dispatch-plan.js';
import {denseDispatch, sparseDispatch} from './moe/expert-dispatch.js';
import {
  type ExpertActivation,
  type ExpertProjection,
  type ExpertWeights,
  expertFfn,
  expertWeightNames,
} from './moe/expert-ffn.js';
import {ExpertLoRA, moeLoRASites} from './moe/expert-lora.js';
import {fastMatMul} from './moe/fast-matmul.js';
import {graphDispatch} from './moe/graph-dispatch.js';
import {graphRoutingCovers, routeInGraph} from './moe/graph-router.js';
import {groupedMatMulAvailable} from './moe/grouped-matmul.js';
import {routerZLoss, sequenceBalanceLoss, switchLoss} from './moe/moe-losses.js';
import {type ResolvedMoEArgs, resolveMoEArgs} from './moe/resolve-moe-args.js';
import {routeRows} from './moe/router-op.js';
import {type RouterOutput, type RouterScoring, routeTokens} from './moe/routing.js';
import {type BiasUpdateMode, updatedRoutingBias} from './moe/routing-bias.js';
import {type RoutingStats, routingStats, routingStatsFromLoad} from './moe/routing-stats.js';
import {loraConfig, resolveSublayerLoRA, type SublayerLoRA} from './sublayer-lora.js';

export interface MoEArgs extends LayerArgs {
  /** Routed experts E. Integer >= 1. */
  numExperts: number;
  /** Experts per token k, in [1, numExperts]. Default min(2, numExperts). */
  topK?: number;
  /** Hidden width of each expert MLP. Integer >= 1. */
  expertHidden: number;
  /** Shared experts, always on and summed in (DeepSeekMoE); run as one MLP of numShared·expertHidden. Default 0. */
  numShared?: number;
  /** Expert MLP: 'swiglu' | 'gelu' | 'relu'. Default 'swiglu'. */
  activation?: ExpertActivation;
  /** Router affinities: 'softmax' (DeepSeek-V2, Switch) | 'sigmoid' (DeepSeek-V3). Default 'softmax'. */
  scoring?: RouterScoring;
  /** Renormalise the k chosen weights to sum to 1. Default: true for sigmoid, false for softmax (as DeepSeek). */
  normTopK?: boolean;
  /** Multiplier on the chosen weights (DeepSeek-V3 route_scale). > 0, default 1. */
  routeScale?: number;
  /** Router logits are divided by this. > 0, default 1. */
  temperature?: number;
  /** Training only: router input multiplied by U(1−jitter, 1+jitter) (Switch). In [0, 1), default 0. */
  jitter?: number;
  /** Training only: each expert takes at most ceil(capacityFactor·T·k/E) choices, the rest drop. 0 = no limit (default). */
  capacityFactor?: number;
  /** Expert groups for group-limited routing; must divide numExperts. Default 1. */
  numGroups?: number;
  /** Groups a token may route into, in [1, numGroups]. Default numGroups (no limit). */
  topKGroups?: number;
  /** Switch/GShard balance loss coefficient α (Switch uses 1e-2). Default 0.01. */
  auxLossCoef?: number;
  /** Router z-loss coefficient; ST-MoE uses 1e-3 against unstable logits, DeepSeek none. Default 0. */
  zLossCoef?: number;
  /** DeepSeek-V3 sequence-wise balance loss coefficient (V3 uses 1e-4). Default 0. */
  seqAuxLossCoef?: number;
  /**
   * γ of aux-loss-free balancing: routing-bias step per update (V3 uses 1e-3). While > 0 the bias
   * is added to the scores for choosing experts, in training and inference. 0 = off (default).
   */
  biasUpdateSpeed?: number;
  /** 'step': the bias moves after every training call; 'manual': only on `updateRoutingBias()`. Default 'step'. */
  biasUpdate?: BiasUpdateMode;
  /** Seed for the weight initialisers; null = random. Default null. */
  seed?: number | null;
  /**
   * LoRA adapters on expert projections by path: `experts/gate|up|down` (one adapter per routed
   * expert, stacked [E, ...]) and `shared/gate|up|down`. With adapters every base weight (router
   * included) is frozen. Default none.
   */
  lora?: SublayerLoRA | null;
}

/**
 * Extra `apply` kwargs: `dispatch: 'dense'` runs the dense reference (all experts, masked);
 * `router` picks the sparse router: 'graph' (TensorFlow ops, tfjs-node, when `graphRoutingCovers`
 * the call), 'js' (`routeRows`), 'auto' (default: 'graph' while a step is being recorded for
 * capture, where a read-back cannot be replayed, else 'js': op by op it costs the same CPU time
 * (bench/moe-router.ts) and runs only the experts that have rows (in a small decoding batch most
 * have none).
 */
export interface MoECallArgs {
  training?: boolean;
  dispatch?: 'sparse' | 'dense';
  router?: 'auto' | 'graph' | 'js';
}

type Pass = object;
/** What one call routes: tokens [T, d], router logits [T, E], the expert stack, the call's settings. */
interface RouteStep {
  x2: tf.Tensor2D;
  logits: tf.Tensor2D;
  experts: ExpertWeights;
  capacity: number | null;
  training: boolean;
  sequenceLength: number;
}
/** One call's routing and expert output, before shared experts: its plan (JS) or load [E] (graph). */
interface Routed {
  plan?: DispatchPlan;
  load?: tf.Tensor1D;
  out: tf.Tensor2D;
  aux: tf.Scalar | null;
}
type ExpertVariables = Record<ExpertProjection, tf.LayerVariable>;

let unnamed = 0;

/**
 * A DeepSeekMoE feed-forward layer: y = Σ_shared FFN(x) + Σ_{i ∈ topK(x)} g_i(x) · FFN_i(x).
 * A linear router scores E experts per token; each token runs only its k experts (sparse
 * dispatch). Input [batch, seq, d] or [tokens, d]; output has the input's shape.
 *
 * In training it adds its auxiliary losses (balance, z-loss, sequence-wise) through `addLoss`, so
 * `model.fit` picks them up; a custom loop adds `layer.takeAuxLoss()` (or `model.calculateLosses()`)
 * to its loss. `lastRoutingStats` describes the last call (the last one run op by op when steps
 * are captured: see `recordedLoad`).
 */
export class MoE extends tf.layers.Layer {
  static className = 'MoE';
  readonly config: ResolvedMoEArgs;
  readonly lora: SublayerLoRA | null;
  /** Routing of the last call: tokens per expert, max/mean load, drops. */
  lastRoutingStats?: RoutingStats;
  /**
   * [E] load of the last call when it ran while a step was being recorded (then `lastRoutingStats`
   * is not updated: that would read back); disposed when the recorded step ends (`isDisposed`).
   */
  recordedLoad?: tf.Tensor1D;
  private router?: tf.LayerVariable;
  private routingBias?: tf.LayerVariable;
  private experts?: ExpertVariables;
  private shared?: ExpertVariables;
  private adapters = new Map<string, ExpertLoRA>();
  private pendingAux: tf.Scalar[] = [];
  private pendingPass?: Pass;
  private pendingLoad?: Float64Array;

  constructor(args: MoEArgs) {
    // tfjs would derive 'mo_e_<n>' from the class name.
    super({...args, name: args.name ?? `moe_${++unnamed}`});
    this.config = resolveMoEArgs(args);
    this.lora = resolveSublayerLoRA('MoE', args.lora, this.loraSites());
  }

  /** Paths (relative to this layer) of the projections that can take a LoRA adapter. */
  loraSites(): string[] {
    return moeLoRASites(this.config.activation, this.config.numShared);
  }

  /** Weights that are state, not parameters: the routing balance bias, which no optimizer updates. */
  stateWeights(): tf.LayerVariable[] {
    return this.routingBias ? [this.routingBias] : [];
  }

  /** The adapters, in site order (none without `lora`). */
  loraAdapters(): ExpertLoRA[] {
    return [...this.adapters.values()];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const d = shape.at(-1);
    if (d == null) throw new ModelError(`MoE '${this.name}': the last input dimension must be known`);
    const {numExperts, expertHidden, numShared, activation, seed} = this.config;
    // An adapted layer's base is frozen, as in LoRADense.
    const trainable = this.lora === null;
    let nextSeed = seed ?? undefined;
    const takeSeed = () => (nextSeed === undefined ? undefined : nextSeed++);
    // Small router init (Switch §2.4: scale 0.1) keeps early routing near uniform.
    this.router = this.addWeight(
      'router/kernel',
      [d, numExperts],
      'float32',
      tf.initializers.varianceScaling({
        scale: 0.1,
        mode: 'fanIn',
        distribution: 'truncatedNormal',
        seed: takeSeed(),
      }),
      undefined,
      trainable,
    );
    this.routingBias = this.addWeight(
      'router/balance_bias',
      [numExperts],
      'float32',
      tf.initializers.zeros(),
      undefined,
      false,
    );
    // Glorot-uniform per expert matrix; the stack's leading [E] axis must not count as fan-in.
    const mlp = (prefix: string, hidden: number, stack: number | null) => {
      const limit = Math.sqrt(6 / (d + hidden));
      const w = {} as ExpertVariables;
      for (const name of expertWeightNames(activation)) {
        const matrix = name === 'down' ? [hidden, d] : [d, hidden];
        const init = tf.initializers.randomUniform({minval: -limit, maxval: limit, seed: takeSeed()});
        const shape = stack ? [stack, ...matrix] : matrix;
        w[name] = this.addWeight(`${prefix}/${name}`, shape, 'float32', init, undefined, trainable);
      }
      return w;
    };
    this.experts = mlp('experts', expertHidden, numExperts);
    if (numShared > 0) this.shared = mlp('shared', numShared * expertHidden, null);
    for (const site of this.lora?.targets ?? []) this.addAdapter(site, takeSeed());
    this.addLoss(() => this.takeAuxLoss());
    this.inputSpec = [{minNDim: 2, axes: {[-1]: d}}];
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: MoECallArgs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const training = kwargs?.training === true;
    const c = this.config;
    const d = x.shape.at(-1)!;
    const numTokens = x.size / d;
    const seqLen = x.rank >= 3 ? x.shape.at(-2)! : numTokens;
    const {y, aux, load} = tf.tidy(() => {
      const x2 = (x.rank === 2 ? x : tf.reshape(x, [numTokens, d])) as tf.Tensor2D;
      const jittered = () =>
        tf.mul(x2, tf.randomUniform(x2.shape, 1 - c.jitter, 1 + c.jitter)) as tf.Tensor2D;
      const routerIn = training && c.jitter > 0 ? jittered() : x2;
      const logits = fastMatMul(routerIn, this.router!.read() as tf.Tensor2D); // [T, E]
      const capacity = training ? expertCapacity(c.capacityFactor, numTokens, c.topK, c.numExperts) : null;
      const experts = this.readExperts('experts', training);
      const step: RouteStep = {x2, logits, experts, capacity, training, sequenceLength: seqLen};
      const routed =
        kwargs?.dispatch === 'dense'
          ? this.denseReference(step)
          : this.routesInGraph(kwargs?.router ?? 'auto', capacity)
            ? this.graphSparse(step)
            : this.sparse(step);
      if (routed.plan) {
        this.lastRoutingStats = routingStats(routed.plan);
        if (training) this.accumulateLoad(routed.plan.load);
      } else if (!isRecording()) {
        this.lastRoutingStats = routingStatsFromLoad(routed.load!.dataSync(), numTokens, c.topK);
      }
      let out = routed.out;
      if (this.shared) out = tf.add(out, expertFfn(x2, this.readExperts('shared', training), c.activation));
      const result: Record<string, tf.Tensor> = {y: x.rank === 2 ? out : tf.reshape(out, x.shape)};
      if (routed.aux) result.aux = routed.aux;
      if (routed.load && isRecording()) result.load = routed.load;
      return result;
    });
    if (aux) this.holdAuxLoss(aux as tf.Scalar);
    // A recorded step cannot read the load back: it stays a tensor of the step for routingMetrics.
    this.recordedLoad = load ? holdWhileRecording(load as tf.Tensor1D) : undefined;
    if (training && c.biasUpdate === 'step') this.updateRoutingBias();
    return y!;
  }

  /** Sparse dispatch, routed by `routeRows` (the router's steps and gradients in one pass). */
  private sparse({x2, logits, experts, capacity, training, sequenceLength}: RouteStep): Routed {
    const c = this.config;
    const bias = c.biasUpdateSpeed > 0 ? this.routingBias!.read().dataSync() : undefined;
    const losses = training ? {...c, sequenceLength} : null;
    // Padded chunks or, on tfjs-node, grouped rows when that is estimated cheaper (skewed loads).
    const layout = groupedMatMulAvailable() ? 'auto' : 'chunks';
    const {plan, rowWeights, aux} = routeRows(logits, c, {bias, capacity, losses, layout});
    return {plan, aux, out: sparseDispatch(x2, rowWeights, plan, experts, c.activation)};
  }

  /** Whether the sparse path routes in TensorFlow (see MoECallArgs.router). */
  private routesInGraph(router: 'auto' | 'graph' | 'js', capacity: number | null): boolean {
    if (router === 'js' || !graphRoutingCovers(this.config, capacity)) return false;
    return router === 'graph' || isRecording();
  }

  /** Sparse dispatch routed and planned in TensorFlow (graph-router.ts, graph-dispatch.ts): no read-back. */
  private graphSparse({x2, logits, experts, training, sequenceLength}: RouteStep): Routed {
    const c = this.config;
    const {indices, weights, load, aux} = routeInGraph(logits, c, training ? {...c, sequenceLength} : null);
    return {load, aux, out: graphDispatch(x2, weights, indices, load, experts, c.activation)};
  }

  /** The dense reference (every expert on every token, masked), routed with plain tensor ops. */
  private denseReference({x2, logits, experts, capacity, training, sequenceLength}: RouteStep): Routed {
    const c = this.config;
    const bias = c.biasUpdateSpeed > 0 ? (this.routingBias!.read() as tf.Tensor1D) : undefined;
    const routed = routeTokens(logits, c, bias);
    const plan = planDispatch(routed.indices, x2.shape[0], c.topK, c.numExperts, capacity);
    const out = denseDispatch(x2, routed.weights, plan, experts, c.activation);
    return {plan, out, aux: training ? this.auxLoss(routed, sequenceLength) : null};
  }

  /**
   * The auxiliary loss of the training calls since the last take (0 if none), as a scalar in the
   * caller's scope; the layer's `addLoss` hook calls this, so `fit` needs nothing else.
   */
  takeAuxLoss(): tf.Scalar {
    const pending = this.pendingAux;
    this.pendingAux = [];
    const live = pending.filter((t) => !t.isDisposed);
    const total = live.length === 0 ? tf.scalar(0) : live.length === 1 ? tf.clone(live[0]!) : tf.addN(live);
    tf.dispose(live);
    return total as tf.Scalar;
  }

  /**
   * Applies aux-loss-free balancing from the load of the training calls since the last update:
   * b_i −= γ·sign(load_i − mean). Does nothing when γ is 0 or no training call ran since.
   */
  updateRoutingBias(): void {
    const load = this.pendingLoad;
    if (!load || this.config.biasUpdateSpeed === 0 || !this.routingBias) return;
    this.pendingLoad = undefined;
    tf.tidy(() => {
      this.routingBias!.write(
        updatedRoutingBias(this.routingBias!.read() as tf.Tensor1D, load, this.config.biasUpdateSpeed),
      );
    });
  }

  /** The routing bias of aux-loss-free balancing, [E]. */
  getRoutingBias(): Float32Array {
    if (!this.routingBias) throw new ModelError(`MoE '${this.name}' is not built yet`);
    return this.routingBias.read().dataSync() as Float32Array;
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    tf.dispose(this.pendingAux);
    this.pendingAux = [];
    return super.dispose();
  }

  /** [A, B] of every adapter, in site order (see `loraAdapters`), as new tensors. */
  getAdapterWeights(): tf.Tensor[] {
    return this.loraAdapters().flatMap((a) => a.getAdapterWeights());
  }

  /** Sets [A, B] of every adapter, in site order. */
  setAdapterWeights(weights: tf.Tensor[]): void {
    const adapters = this.loraAdapters();
    if (weights.length !== 2 * adapters.length) {
      throw new ModelError(
        `MoE '${this.name}': expected ${2 * adapters.length} adapter weights, got ${weights.length}`,
      );
    }
    adapters.forEach((a, i) => {
      a.setAdapterWeights(this.name, weights.slice(2 * i, 2 * i + 2));
    });
  }

  /** Names of the adapted base weights, in the order of `mergedWeights`. */
  baseWeightNames(): string[] {
    return this.loraAdapters().map((a) => a.baseWeightName());
  }

  /** Each adapted base weight with its adapter merged in, W + scale·A·B (new tensors). */
  mergedWeights(): tf.Tensor[] {
    return this.loraAdapters().map((a) => a.mergedWeight());
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), ...this.config, lora: loraConfig(this.lora)};
  }

  /** The shape of the base weight at `site` (`experts/down`: [E, hidden, d]; `shared/up`: [d, hidden]). */
  projectionShape(site: string): number[] {
    const [group, name] = site.split('/') as ['experts' | 'shared', ExpertProjection];
    const w = (group === 'experts' ? this.experts : this.shared)?.[name];
    if (!w) throw new ModelError(`MoE '${this.name}' has no built projection '${site}'`);
    return w.shape as number[];
  }

  /** Adds the A/B pair of `site` (`experts/down`): A uniform in ±1/sqrt(in) (as LoRADense), B zero. */
  private addAdapter(site: string, seed: number | undefined): void {
    const [group, name] = site.split('/') as ['experts' | 'shared', ExpertProjection];
    const base = (group === 'experts' ? this.experts : this.shared)![name];
    const shape = base.shape as number[];
    const [inDim, outDim] = shape.slice(-2) as [number, number];
    const stack = shape.slice(0, -2); // [E] or []
    const {rank} = this.lora!;
    const bound = 1 / Math.sqrt(inDim);
    const a = this.addWeight(
      `${site}/lora_a`,
      [...stack, inDim, rank],
      'float32',
      tf.initializers.randomUniform({minval: -bound, maxval: bound, seed}),
    );
    const b = this.addWeight(`${site}/lora_b`, [...stack, rank, outDim], 'float32', tf.initializers.zeros());
    this.adapters.set(site, new ExpertLoRA(site, resolveLoRASpec('MoE', this.lora!), base, a, b));
  }

  /** The routed (`experts`) or shared weights as the expert MLP takes them, adapters included. */
  private readExperts(group: 'experts' | 'shared', training: boolean): ExpertWeights {
    const w = group === 'experts' ? this.experts! : this.shared!;
    const weights: ExpertWeights = {gate: w.gate?.read(), up: w.up.read(), down: w.down.read()};
    const adapted = this.loraAdapters().filter((a) => a.site.startsWith(`${group}/`));
    if (adapted.length > 0) {
      weights.lora = Object.fromEntries(adapted.map((a) => [a.site.split('/')[1], a.adapter(training)]));
    }
    return weights;
  }

  private auxLoss(routed: RouterOutput, seqLen: number): tf.Scalar {
    const {auxLossCoef, zLossCoef, seqAuxLossCoef, topK} = this.config;
    const terms: tf.Scalar[] = [];
    if (auxLossCoef > 0) terms.push(tf.mul(switchLoss(routed.probs, routed.indices, topK), auxLossCoef));
    if (seqAuxLossCoef > 0) {
      terms.push(tf.mul(sequenceBalanceLoss(routed.probs, routed.indices, topK, seqLen), seqAuxLossCoef));
    }
    if (zLossCoef > 0) terms.push(tf.mul(routerZLoss(routed.logits), zLossCoef));
    return (terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  }

  /**
   * Keeps an aux loss alive past the tidy of any enclosing layer until `takeAuxLoss`. Losses from
   * an earlier gradient pass that nobody took are stale: dispose them. Outside a gradient tape each
   * call is its own pass.
   */
  private holdAuxLoss(aux: tf.Scalar): void {
    const tape = (tf.engine().state as unknown as {activeTape?: object | null}).activeTape;
    const pass = tape ?? {};
    if (this.pendingPass !== pass) {
      tf.dispose(this.pendingAux);
      this.pendingAux = [];
    }
    this.pendingPass = pass;
    this.pendingAux.push(tf.keep(aux));
  }

  private accumulateLoad(load: Int32Array): void {
    this.pendingLoad ??= new Float64Array(load.length);
    for (let e = 0; e < load.length; e++) this.pendingLoad[e]! += load[e]!;
  }
}
tf.serialization.registerClass(MoE);
