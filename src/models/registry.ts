import {ConfigError, ModelError} from '../errors.js';
import {outputShape} from '../run/check-run.js';
import {loadRun} from '../run/load-run.js';
import {type LoadedRun, RUN_FILES, type RunConfig} from '../run/run-folder.js';
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

/**
 * The run's model is one `kind` reads: its output is the kind's (class logits over the labels, or
 * token logits over the vocabulary), and config.json's `model` holds the keys the kind needs to open
 * the run (`open: false` leaves those out, for workflows that only transform the model). A
 * `task: "lm"` written over a classifier is refused here, naming config.json.
 */
export function checkRunForKind(
  kind: ModelKind,
  run: LoadedRun,
  options: {open?: boolean} = {open: true},
): void {
  const config = `${run.dir}/${RUN_FILES.config}`;
  const {rank, last} = outputShape(run.model);
  const wanted = kind.output === 'token-logits' ? 3 : 2;
  if (rank !== wanted) {
    const is =
      rank === 3
        ? 'a language model (token logits)'
        : rank === 2
          ? 'a classifier (class logits)'
          : `a model with ${rank}-D output`;
    throw new ModelError(
      `${config}: task "${run.config.task}" is a ${kind.id} run, but the model in model/ is ${is}`,
      'the config.json does not belong to this model; restore the one the run was trained with',
    );
  }
  const model = run.config.model as Record<string, unknown>;
  for (const key of options.open ? kind.requiredModelKeys : []) {
    if (model[key] === undefined) {
      throw new ModelError(
        `${config}: model.${key} is missing`,
        `a ${kind.id} run records it; restore the run's config.json`,
      );
    }
  }
  if (kind.output === 'token-logits' && run.tokenizer && last !== null && last < run.tokenizer.vocabSize) {
    throw new ModelError(
      `${run.dir}/${RUN_FILES.tokenizer}: ${run.tokenizer.vocabSize} ids, but the model predicts ${last}`,
      'use the tokenizer.json the run was trained with',
    );
  }
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
    checkRunForKind(kind, loaded);
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
    checkRunForKind(kind, loaded, {open: false});
  } catch (err) {
    loaded.model.dispose();
    throw err;
  }
  let opened: OpenRun | undefined;
  const open = () => {
    checkRunForKind(kind, loaded);
    return kind.open(loaded);
  };
  return {kind, loaded, open: () => (opened ??= open())};
}

/** Every preset of every kind, one line each: what `train --help` lists under --preset. */
export function presetHelp(): string {
  return MODEL_KINDS.flatMap((k) => [
    `${k.id} (${k.trainFlags}):`,
    ...Object.entries(k.presets).map(([name, line]) => `  ${name} — ${line}`),
  ]).join('\n');
}
