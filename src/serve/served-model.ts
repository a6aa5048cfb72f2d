import type {BatchDecoder} from '../models/causal-lm/batch-decoder.js';
import type {LanguageModelRun} from '../models/causal-lm/causal-lm-run.js';
import {argmaxRows} from '../models/classify/classification-metrics.js';
import type {ModelKind, ModelMetadata, OpenRun} from '../models/model-kind.js';
import {openRun} from '../models/registry.js';
import {loadDriftReference} from '../monitor/drift-reference.js';
import {DriftWindow, type StatisticDrift} from '../monitor/drift-window.js';
import {DRIFT_STATISTICS, tokenStatistics} from '../monitor/input-statistics.js';
import {PSI_WARNING} from '../monitor/psi.js';
import {forwardFallbackNotice, GraphForward, graphForwardEnabled} from '../train/graph-forward.js';
import {routingByPath} from '../train/moe-monitor.js';
import {ClassifyBatcher} from './classify-batcher.js';
import {type GenerationRequest, type GenerationResult, GenerationScheduler} from './generation-scheduler.js';
import type {ServeMetrics} from './metrics.js';

export interface ServedModelOptions {
  /** Rows per classification batch, sequences per decoding step. */
  maxBatch: number;
  /** How long a classification request may wait for others. */
  maxWaitMs: number;
  /** Live inputs the drift window keeps. Default 1000. */
  driftWindow?: number;
  /**
   * Under load, one classification batch per this many ms is tokenized again for the length and OOV
   * statistics (it costs as much as parsing the request); labels are all counted. Default 50.
   */
  driftTokenizeEveryMs?: number;
  /** PSI is reported from this many observations on (fewer are noise). Default 100. */
  driftMinObserved?: number;
  /** Classification requests received but not queued yet (see ClassifyBatcherOptions.arriving). */
  arriving?: () => number;
  /** Log lines (warnings about drift). */
  log: (message: string) => void;
}

/** Why the server cannot say a model's drift: no reference in its run folder, or a kind without one. */
export type DriftState = {available: true; window: DriftWindow} | {available: false; reason: string};

/**
 * One run folder loaded for serving: its kind and run, the engine that batches its requests (a
 * ClassifyBatcher for classifiers, a GenerationScheduler over a BatchDecoder for language models),
 * and its drift window. `load` warms it up before anyone can route to it, so a folder that does
 * not load or does not run fails there, not on a user's request.
 */
export class ServedModel {
  readonly metadata: ModelMetadata;
  readonly loadedAt = new Date();
  readonly drift: DriftState;
  private readonly batcher?: ClassifyBatcher;
  private readonly scheduler?: GenerationScheduler;
  private readonly decoder?: BatchDecoder;
  /** Classifiers: full batches (maxBatch rows) replayed as one captured TensorFlow function. */
  private readonly forward?: GraphForward;
  private readonly warned = new Map<string, number>();
  private tokenizedAt = -Infinity;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly version: number,
    readonly kind: ModelKind,
    readonly run: OpenRun,
    drift: DriftState,
    private readonly options: ServedModelOptions,
    private readonly metrics: ServeMetrics,
  ) {
    this.metadata = kind.metadata(run);
    this.drift = drift;
    if (kind.classify) {
      const classify = kind.classify.bind(kind);
      if (graphForwardEnabled()) {
        this.forward = new GraphForward(run.model, {
          batchSize: options.maxBatch,
          onFallback: (reason) => options.log(`model ${name}: ${forwardFallbackNotice(reason)}`),
        });
      }
      this.batcher = new ClassifyBatcher(
        async (rows) => {
          const probs = await classify(run, rows, Math.max(rows.length, 1), this.forward);
          this.countExperts();
          void this.observeRows(rows, probs);
          return probs;
        },
        run.labels?.length ?? 0,
        {
          maxBatch: options.maxBatch,
          maxWaitMs: options.maxWaitMs,
          arriving: options.arriving,
          onBatch: (size, waits) => {
            metrics.batchSize.observe({model: name, task: 'classify'}, size);
            for (const w of waits) metrics.queueWait.observe({model: name}, w);
          },
        },
      );
    } else if (kind.batchDecoder) {
      const lm = run as LanguageModelRun;
      this.decoder = kind.batchDecoder(run);
      let rate = 0;
      this.scheduler = new GenerationScheduler(this.decoder, lm.tokenizer, {
        maxBatch: options.maxBatch,
        contextLength: lm.config.contextLength,
        onStep: (sequences, tokens, seconds) => {
          metrics.batchSize.observe({model: name, task: 'generate'}, sequences);
          metrics.tokens.inc({model: name}, tokens);
          // Smoothed over about ten steps.
          rate = rate === 0 ? tokens / seconds : 0.9 * rate + (0.1 * tokens) / seconds;
          metrics.tokensPerSecond.set({model: name}, rate);
          this.countExperts();
        },
        onJoin: (seconds) => metrics.queueWait.observe({model: name}, seconds),
      });
    }
  }

  /** Loads run folder `dir` as model `name`, with its drift reference, and warms it up; disposes it if that fails. */
  static async load(
    name: string,
    dir: string,
    version: number,
    options: ServedModelOptions,
    metrics: ServeMetrics,
  ): Promise<ServedModel> {
    const {kind, run} = await openRun(dir);
    let model: ServedModel | undefined;
    try {
      const reference = await loadDriftReference(dir);
      const drift: DriftState = reference
        ? {available: true, window: new DriftWindow(reference, options.driftWindow ?? 1000)}
        : {
            available: false,
            reason: `${dir} has no drift reference (runs trained before serve existed, or not by train)`,
          };
      model = new ServedModel(name, dir, version, kind, run, drift, options, metrics);
      if (!model.batcher && !model.scheduler) {
        throw new Error(`${dir}: a ${kind.id} run can neither classify nor generate`);
      }
      await model.warmUp();
      return model;
    } catch (err) {
      if (model) await model.close();
      else run.model.dispose();
      throw err;
    }
  }

  get task(): 'classify' | 'lm' {
    return this.metadata.task;
  }

  /** Rows waiting for a batch, or sequences waiting to join one. */
  get queueDepth(): number {
    return this.batcher?.depth ?? this.scheduler?.depth ?? 0;
  }

  /** Class probabilities [rows × labels] of `rows`, batched with other requests. */
  classify(rows: Record<string, unknown>[], arrivedAt?: number): Promise<Float32Array> {
    if (!this.batcher) throw new Error(`model ${this.name} does not classify`);
    return this.batcher.run(rows, arrivedAt);
  }

  /** A continuation, decoded in the batch with the other requests' sequences. */
  generate(request: GenerationRequest): Promise<GenerationResult> {
    if (!this.scheduler) throw new Error(`model ${this.name} does not generate`);
    this.observeTokens([request.promptIds]);
    return this.scheduler.generate(request);
  }

  /** PSI per statistic (those with enough observations), or why there is none. */
  driftReport():
    | {available: true; statistics: Record<string, StatisticDrift>}
    | {available: false; reason: string} {
    if (!this.drift.available) return this.drift;
    const min = this.options.driftMinObserved ?? 100;
    const statistics = Object.fromEntries(
      Object.entries(this.drift.window.drift()).filter(([, s]) => s.observed >= min),
    );
    return {available: true, statistics};
  }

  /** Waits for queued and running requests, then frees the model and its caches. */
  async close(): Promise<void> {
    await this.batcher?.drained();
    await this.scheduler?.drained();
    this.decoder?.dispose();
    this.forward?.dispose();
    this.run.model.dispose();
  }

  private async warmUp(): Promise<void> {
    if (this.batcher) {
      const {features, textField} = this.metadata;
      const row = features
        ? Object.fromEntries(features.columns.map((c, i) => [c, features.mean[i]!]))
        : {[textField ?? 'text']: 'warm up'};
      const probs = await this.batcher.run([row]);
      if (!probs.every(Number.isFinite)) throw new Error(`${this.dir}: the warm-up prediction is not finite`);
    } else {
      const special = this.run.tokenizer!.special;
      await this.scheduler!.generate({
        promptIds: [special.eos ?? special.bos ?? 0],
        maxTokens: 2,
        sampling: {temperature: 0},
        seed: 0,
        stop: [],
      });
    }
  }

  private countExperts(): void {
    for (const [layer, stats] of Object.entries(routingByPath(this.run.model))) {
      for (const [expert, n] of stats.tokensPerExpert.entries()) {
        if (n > 0) this.metrics.expertLoad.inc({model: this.name, layer, expert: String(expert)}, n);
      }
    }
  }

  private async observeRows(rows: Record<string, unknown>[], probs: Float32Array): Promise<void> {
    if (!this.drift.available) return;
    const {textField} = this.metadata;
    const tokenizer = this.run.tokenizer;
    const now = performance.now();
    if (tokenizer && textField && now - this.tokenizedAt >= (this.options.driftTokenizeEveryMs ?? 50)) {
      this.tokenizedAt = now;
      const texts = rows.map((r) => String(r[textField] ?? ''));
      this.observeTokens(await tokenizer.encodeBatch(texts), false);
    }
    const labels = this.run.labels;
    if (labels) {
      for (const i of argmaxRows(probs, labels.length)) {
        this.drift.window.observe(DRIFT_STATISTICS.predictedLabel, labels[i]!);
      }
    }
    this.publishDrift();
  }

  private observeTokens(inputs: readonly number[][], publish = true): void {
    if (!this.drift.available) return;
    const unk = this.run.tokenizer?.special.unk;
    for (const ids of inputs) {
      const {length, oovRate} = tokenStatistics(ids, unk);
      this.drift.window.observe(DRIFT_STATISTICS.inputLength, length);
      this.drift.window.observe(DRIFT_STATISTICS.oovRate, oovRate);
    }
    if (publish) this.publishDrift();
  }

  /** Sets the PSI gauges, and logs a warning (at most once a minute per statistic) above 0.2. */
  private publishDrift(): void {
    const report = this.driftReport();
    if (!report.available) return;
    const now = Date.now();
    for (const [statistic, d] of Object.entries(report.statistics)) {
      if (d.psi === null) continue;
      this.metrics.drift.set({model: this.name, statistic}, d.psi);
      if (d.psi > PSI_WARNING && now - (this.warned.get(statistic) ?? 0) > 60_000) {
        this.warned.set(statistic, now);
        this.options.log(
          `warning: model ${this.name}: ${statistic} has drifted from the training reference, PSI ${d.psi.toFixed(3)} over the last ${d.observed} inputs (above ${PSI_WARNING})`,
        );
      }
    }
  }
}
