import type * as tf from '@tensorflow/tfjs';
import {ModelError, printable} from '../errors.js';
import {walkLayers} from '../layers/walk-layers.js';
import type {RunConfig} from './run-folder.js';

// The names of run-folder.ts's RUN_FILES (imported as types only: run-folder.ts imports this file).
const CONFIG = 'config.json';
const TOKENIZER = 'tokenizer.json';
const LABELS = 'labels.json';

/**
 * A run folder's files checked against each other, once, when it is loaded (load-run.ts): config.json
 * has its required keys with sizes that are whole numbers in sane bounds, labels.json has one label
 * per output of the head, the tokenizer has no more ids than the embedding has rows and an [UNK]
 * where it needs one (WordPiece). Every message names the file and the field. What depends on the kind (which
 * output the model must have, which config keys it needs) is checked by `checkRunForKind`.
 */

/** Sequence lengths (maxLen, contextLength) up to this are accepted: 1M tokens. */
export const MAX_SEQUENCE = 1 << 20;
/** Other sizes in a model config (widths, counts, vocabulary). */
const MAX_SIZE = 1 << 24;

/** Model-config keys that are sizes: whole numbers, with the smallest value each may take. */
const SIZE_KEYS: Record<string, {min: number; max: number}> = {
  maxLen: {min: 1, max: MAX_SEQUENCE},
  contextLength: {min: 1, max: MAX_SEQUENCE},
  vocabSize: {min: 1, max: MAX_SIZE},
  dModel: {min: 1, max: MAX_SIZE},
  numLayers: {min: 0, max: 4096},
  numHeads: {min: 1, max: 4096},
  headDim: {min: 0, max: MAX_SIZE},
  ffnHidden: {min: 0, max: MAX_SIZE},
  numExperts: {min: 1, max: 65_536},
  topK: {min: 1, max: 65_536},
  expertHidden: {min: 0, max: MAX_SIZE},
};

/** What a loaded run holds, as checked here. */
export interface RunContents {
  dir: string;
  config: RunConfig;
  model: tf.LayersModel;
  tokenizer?: {vocabSize: number; kind?: string; special: {unk?: number}};
  labels?: string[];
}

const configError = (dir: string, field: string, problem: string, hint?: string) =>
  new ModelError(`${dir}/${CONFIG}: ${field} ${problem}`, hint ?? 'the run folder is damaged or was edited');

/** config.json: a `model` object whose sizes are whole numbers within bounds. */
export function checkRunConfig(dir: string, config: RunConfig): void {
  const model = config.model;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    throw configError(
      dir,
      '"model"',
      'is missing or not an object',
      'a run config holds the model config it was built from',
    );
  }
  for (const [key, value] of Object.entries(model as Record<string, unknown>)) {
    const bounds = SIZE_KEYS[key];
    if (!bounds) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
      throw configError(
        dir,
        `model.${key}`,
        `must be a whole number from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(value)?.slice(0, 40)}`,
      );
    }
  }
}

/** Rows of the model's first embedding table (token ids it can look up), or undefined without one. */
export function embeddingRows(model: tf.LayersModel): number | undefined {
  for (const {layer} of walkLayers(model)) {
    if (!/Embedding$/.test(layer.getClassName())) continue;
    const table = layer.weights.find((w) => w.shape.length === 2);
    const rows = table?.shape[0];
    if (typeof rows === 'number') return rows;
  }
  return undefined;
}

/** The size of the model's output's last axis and its rank. */
export function outputShape(model: tf.LayersModel): {rank: number; last: number | null} {
  const shape = model.outputs[0]?.shape ?? [];
  return {rank: shape.length, last: (shape.at(-1) as number | null | undefined) ?? null};
}

/**
 * tokenizer.json content the tokenizer library accepts but fails on at the first text: a WordPiece
 * vocabulary without its `unk_token` (every unknown word maps to it).
 */
export function checkTokenizerJson(path: string, json: unknown): void {
  const model = (json as {model?: {type?: unknown; vocab?: unknown; unk_token?: unknown}})?.model;
  if (model?.type !== 'WordPiece') return;
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new ModelError(`${path}: model.vocab must be an object of token → id`);
  }
  const unk = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
  if (!Object.hasOwn(vocab, unk)) {
    throw new ModelError(
      `${path}: model.vocab has no ${printable(unk, 40)} (the model's unk_token)`,
      'use the tokenizer.json the run was trained with',
    );
  }
}

/** The checks every run folder passes, whatever its kind. */
export function checkRunContents(run: RunContents): void {
  checkRunConfig(run.dir, run.config);
  const maxLen = (run.config.model as {maxLen?: number}).maxLen;
  const input = run.model.inputs[0]?.shape;
  if (
    typeof maxLen === 'number' &&
    input?.length === 2 &&
    typeof input[1] === 'number' &&
    input[1] !== maxLen
  ) {
    throw configError(
      run.dir,
      'model.maxLen',
      `is ${maxLen}, but the model in model/ reads ${input[1]} tokens`,
    );
  }
  if (run.tokenizer) {
    const where = `${run.dir}/${TOKENIZER}`;
    const rows = embeddingRows(run.model);
    if (run.tokenizer.vocabSize < 1) throw new ModelError(`${where}: the vocabulary is empty`);
    if (rows !== undefined && run.tokenizer.vocabSize > rows) {
      throw new ModelError(
        `${where}: the tokenizer has ${run.tokenizer.vocabSize} ids, but the model's embedding has ${rows} rows`,
        'use the tokenizer.json the run was trained with',
      );
    }
    // WordPiece maps every unknown word to [UNK]; without it, encoding fails on the first one.
    if (run.tokenizer.kind === 'wordpiece' && run.tokenizer.special.unk === undefined) {
      throw new ModelError(
        `${where}: the vocabulary has no [UNK] token`,
        'use the tokenizer.json the run was trained with',
      );
    }
  }
  if (run.labels) {
    const {rank, last} = outputShape(run.model);
    if (rank === 2 && last !== null && last !== run.labels.length) {
      throw new ModelError(
        `${run.dir}/${LABELS}: ${run.labels.length} labels, but the model's head has ${last} outputs`,
        'use the labels.json the run was trained with',
      );
    }
  }
}
