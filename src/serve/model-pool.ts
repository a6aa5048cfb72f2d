import {hash32} from '../data/rng.js';
import {ConfigError, UserError} from '../errors.js';
import type {ServeMetrics} from './metrics.js';
import {ServedModel, type ServedModelOptions} from './served-model.js';

/** A model the client asked for that the server does not have. */
export class UnknownModelError extends UserError {}

/** Loading or warming up a model update failed: the model that served before still does. */
export class ModelUpdateError extends UserError {}

export interface RollbackPolicy {
  /** Requests a new version is watched for after a swap. Default 20. */
  requests: number;
  /** Share of those that may fail (5xx) before the swap is rolled back. Default 0.5. */
  maxErrorRate: number;
}

/** A traffic split: model names with weights that sum to 1. */
export type TrafficSplit = {model: string; weight: number}[];

/** Something that happened to a model, as /v1/models and the log show it. */
export interface ModelEvent {
  time: string;
  model: string;
  event: 'loaded' | 'swapped' | 'rolled_back' | 'confirmed';
  version: number;
  run: string;
  message: string;
}

interface Probation {
  previous: ServedModel;
  requests: number;
  errors: number;
}

/**
 * The models a server holds, by name. `get` routes a request (a named model, or the `--split`
 * between two for requests that name none, sticky per client id); `update` loads a run folder
 * beside the current version, warms it up and swaps it in atomically, then watches its first
 * requests and swaps the previous version back when too many fail, or when loading fails.
 */
export class ModelPool {
  private readonly models = new Map<string, ServedModel>();
  private readonly probation = new Map<string, Probation>();
  private readonly versions = new Map<string, number>();
  readonly events: ModelEvent[] = [];

  constructor(
    private readonly options: ServedModelOptions & {rollback: RollbackPolicy; split?: TrafficSplit},
    private readonly metrics: ServeMetrics,
  ) {}

  /** Loads the first version of model `name`; a failure here is the caller's (the server does not start). */
  async add(name: string, dir: string): Promise<ServedModel> {
    const model = await ServedModel.load(name, dir, this.nextVersion(name), this.options, this.metrics);
    this.models.set(name, model);
    this.metrics.modelInfo.set({model: name, run: dir, version: String(model.version)}, 1);
    this.event(model, 'loaded', `serving ${dir}`);
    return model;
  }

  /** Checks that the split names served models. */
  checkSplit(): void {
    for (const {model} of this.options.split ?? []) {
      if (!this.models.has(model)) {
        throw new ConfigError(
          `--split names "${model}", which is not a --model`,
          `models: ${this.names().join(', ')}`,
        );
      }
    }
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  list(): ServedModel[] {
    return [...this.models.values()];
  }

  /**
   * The model for a request: `requested` by name; without one (or `default`), the split's pick
   * (the same for every request of one `clientId`) or the first model.
   */
  get(requested?: string, clientId?: string): ServedModel {
    if (requested && requested !== 'default') {
      const model = this.models.get(requested);
      if (!model) {
        throw new UnknownModelError(
          `model "${requested}" is not served`,
          `models: ${this.names().join(', ')}`,
        );
      }
      return model;
    }
    const split = this.options.split;
    if (split && split.length > 0) {
      const u = clientId ? hash32(clientId, 0xab) / 2 ** 32 : Math.random();
      let acc = 0;
      for (const {model, weight} of split) {
        acc += weight;
        if (u < acc) return this.models.get(model)!;
      }
      return this.models.get(split.at(-1)!.model)!;
    }
    return this.models.values().next().value!;
  }

  /**
   * Hot update: loads `dir` as the next version of `name` (a new name is simply added), warms it up
   * and swaps it in; the version it replaces stays loaded until the new one has passed its first
   * `rollback.requests` requests. A failed load or warm-up is a ModelUpdateError and leaves the
   * current version serving.
   */
  async update(name: string, dir: string): Promise<ServedModel> {
    const current = this.models.get(name);
    const version = this.nextVersion(name);
    let next: ServedModel;
    try {
      next = await ServedModel.load(name, dir, version, this.options, this.metrics);
    } catch (err) {
      const reason = (err as Error).message;
      if (current) {
        this.metrics.rollbacks.inc({model: name});
        this.event(
          current,
          'rolled_back',
          `version ${version} (${dir}) failed to load or warm up, kept version ${current.version}: ${reason}`,
        );
      }
      throw new ModelUpdateError(
        `cannot serve ${dir} as model "${name}": ${reason}`,
        current ? `version ${current.version} (${current.dir}) still serves` : undefined,
      );
    }
    // A version still on probation is replaced: its predecessor is the one to fall back to.
    const pending = this.probation.get(name);
    const previous = pending?.previous ?? current;
    if (pending && current) void current.close();
    this.models.set(name, next);
    if (current)
      this.metrics.modelInfo.remove({model: name, run: current.dir, version: String(current.version)});
    this.metrics.modelInfo.set({model: name, run: dir, version: String(version)}, 1);
    if (previous) {
      this.probation.set(name, {previous, requests: 0, errors: 0});
      this.event(
        next,
        'swapped',
        `version ${version} (${dir}) replaced version ${previous.version}; watching its first ${this.options.rollback.requests} requests`,
      );
    } else {
      this.event(next, 'loaded', `serving ${dir}`);
    }
    return next;
  }

  /** Counts a finished request of `model` (ok: not a server error) against its probation. */
  record(model: ServedModel, ok: boolean): void {
    const watch = this.probation.get(model.name);
    if (!watch || this.models.get(model.name) !== model) return;
    watch.requests++;
    if (!ok) watch.errors++;
    const {requests: n, maxErrorRate} = this.options.rollback;
    if (watch.errors > maxErrorRate * n) {
      this.probation.delete(model.name);
      this.models.set(model.name, watch.previous);
      this.metrics.modelInfo.remove({model: model.name, run: model.dir, version: String(model.version)});
      this.metrics.modelInfo.set(
        {model: model.name, run: watch.previous.dir, version: String(watch.previous.version)},
        1,
      );
      this.metrics.rollbacks.inc({model: model.name});
      this.event(
        watch.previous,
        'rolled_back',
        `version ${model.version} (${model.dir}) failed ${watch.errors} of its first ${watch.requests} requests (more than ${Math.round(maxErrorRate * 100)}% of ${n}); back to version ${watch.previous.version}`,
      );
      void model.close();
    } else if (watch.requests >= n) {
      this.probation.delete(model.name);
      this.event(
        model,
        'confirmed',
        `version ${model.version} passed its first ${n} requests (${watch.errors} failed)`,
      );
      void watch.previous.close();
    }
  }

  /** Events of model `name`, oldest first. */
  eventsOf(name: string): ModelEvent[] {
    return this.events.filter((e) => e.model === name);
  }

  /** Frees every model (and any previous version on probation) once its requests are done. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.models.values(), ...[...this.probation.values()].map((p) => p.previous)].map((m) => m.close()),
    );
  }

  private nextVersion(name: string): number {
    const version = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, version);
    return version;
  }

  private event(model: ServedModel, event: ModelEvent['event'], message: string): void {
    const entry = {
      time: new Date().toISOString(),
      model: model.name,
      event,
      version: model.version,
      run: model.dir,
      message,
    };
    this.events.push(entry);
    if (this.events.length > 1000) this.events.shift();
    this.options.log(`model ${model.name}: ${event.replace('_', ' ')}: ${message}`);
  }
}

/** `a=0.9,b=0.1` → a split; weights must be positive and sum to 1. */
export function parseSplit(spec: string): TrafficSplit {
  const split = spec.split(',').map((part) => {
    const [model, weight] = part.split('=');
    const w = Number(weight);
    if (!model || !(w > 0)) {
      throw new ConfigError(
        `--split: "${part}" is not NAME=WEIGHT with a weight above 0`,
        'e.g. --split a=0.9,b=0.1',
      );
    }
    return {model: model.trim(), weight: w};
  });
  const total = split.reduce((s, p) => s + p.weight, 0);
  if (Math.abs(total - 1) > 1e-6)
    throw new ConfigError(`--split weights sum to ${total}, not 1`, 'e.g. --split a=0.9,b=0.1');
  return split;
}

/** `NAME=runs/DIR` → that name; a bare `runs/DIR` is named after its last folder. */
export function parseModelSpec(spec: string): {name: string; dir: string} {
  const eq = spec.indexOf('=');
  if (eq > 0) return {name: spec.slice(0, eq), dir: spec.slice(eq + 1)};
  const name = spec.replace(/\/+$/, '').split('/').at(-1);
  if (!name)
    throw new ConfigError(
      `--model "${spec}" names no run folder`,
      'e.g. --model runs/imdb or --model a=runs/imdb',
    );
  return {name, dir: spec};
}
