import {ConfigError, ModelError} from '../errors.js';
import {loadRun} from '../run/load-run.js';
import type {LoadedRun, RunConfig} from '../run/run-folder.js';
import {causalLMKind} from './causal-lm/causal-lm-kind.js';
import {loadExportFolder, readExportMetadata} from './export-folder.js';
import {featureClassifierKind} from './feature-classifier/feature-classifier-kind.js';
import type {ModelKind, OpenRun, Task} from './model-kind.js';
import {textClassifierKind} from './text-classifier/text-classifier-kind.js';
import type {TrainRunOptions} from './train-options.js';

/** Every model kind the kit knows. A new kind: its folder, and one line here. */
export const MODEL_KINDS: readonly ModelKind[] = [textClassifierKind, featureClassifierKind, causalLMKind];

/** The tasks `train --task` takes, in registry order. */
export const TRAIN_TASKS: readonly Task[] = [...new Set(MODEL_KINDS.map((k) => k.task))];

/** The kind that wrote a run's config.json; a config no kind owns is a ModelError naming its task. */
export function kindOf(config: RunConfig, dir = 'the run'): ModelKind {
  const kind = MODEL_KINDS.find((k) => k.owns(config));
  if (!kind) {
    throw new ModelError(
      `${dir} is a "${config.task}" run, which no model kind of this kit reads`,
      `kinds: ${MODEL_KINDS.map((k) => `${k.id} (task ${k.task})`).join(', ')}`,
    );
  }
  return kind;
}

/** The kind `train --task <task>` builds with these options (`--features` picks the feature classifier). */
export function kindToTrain(task: string, options: TrainRunOptions): ModelKind {
  const kind = MODEL_KINDS.find((k) => k.trains(task as Task, options));
  if (!kind) throw new ConfigError(`unknown task "${task}"`, `use one of ${TRAIN_TASKS.join(', ')}`);
  return kind;
}

/** A run folder, or an export folder read as the run it came from (export-folder.ts). */
async function loadRunOrExport(dir: string): Promise<LoadedRun> {
  const exported = await readExportMetadata(dir);
  if (!exported) return loadRun(dir);
  const kind = MODEL_KINDS.find((k) => k.id === exported.kind)!;
  return loadExportFolder(dir, exported, kind);
}

/** A run folder opened by its kind; `kind` is what to ask of it. Dispose `run.model` when done. */
export interface KindAndRun {
  kind: ModelKind;
  run: OpenRun;
}

/**
 * Loads the run folder `dir` (config, model, tokenizer, labels; a LoRA run with its base and
 * adapter; or an export folder, as the run it came from) and opens it with the kind that wrote it:
 * the one function that turns a folder into a typed run. Anything missing or malformed is a
 * ModelError naming the folder and the file.
 */
export async function openRun(dir: string): Promise<KindAndRun> {
  const loaded = await loadRunOrExport(dir);
  try {
    const kind = kindOf(loaded.config, dir);
    return {kind, run: kind.open(loaded)};
  } catch (err) {
    loaded.model.dispose();
    throw err;
  }
}

/** A loaded run folder with its kind, opened (its files checked, typed) only when asked. */
export interface LoadedKindRun {
  kind: ModelKind;
  loaded: LoadedRun;
  /** The typed run; the first call checks the files the kind needs. */
  open(): OpenRun;
}

/**
 * Loads `dir` and finds its kind without opening it: for workflows that need the kind's help only
 * sometimes (prune or quantize without --data or --eval work on any run folder with a model).
 */
export async function loadKindRun(dir: string): Promise<LoadedKindRun> {
  const loaded = await loadRunOrExport(dir);
  let kind: ModelKind;
  try {
    kind = kindOf(loaded.config, dir);
  } catch (err) {
    loaded.model.dispose();
    throw err;
  }
  let opened: OpenRun | undefined;
  return {kind, loaded, open: () => (opened ??= kind.open(loaded))};
}

/** Every preset of every kind, one line each: what `train --help` lists under --preset. */
export function presetHelp(): string {
  return MODEL_KINDS.flatMap((k) => [
    `${k.id} (${k.trainFlags}):`,
    ...Object.entries(k.presets).map(([name, line]) => `  ${name} — ${line}`),
  ]).join('\n');
}
