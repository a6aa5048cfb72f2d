import {readFile} from 'node:fs/promises';
import {extname} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {readDocs} from '../../data/io/read-docs.js';
import {DatasetError} from '../../errors.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import {arrayBatchSource, type BatchSource} from '../../train/batch-source.js';

/**
 * The documents of a language-model data file: a `.txt` file is one document (a book), JSONL/CSV/TSV
 * rows are one each (their text field). Empty files and files without text are DatasetErrors.
 */
export async function readTextDocuments(file: string, textField?: string): Promise<string[]> {
  let docs: string[];
  if (extname(file).toLowerCase() === '.txt') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new DatasetError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    docs = [text.replace(/\r\n/g, '\n')];
  } else {
    docs = [];
    for await (const doc of readDocs({input: file, textField})) docs.push(doc.text);
  }
  if (docs.every((d) => d.trim() === '')) {
    throw new DatasetError(
      `${file}: no text`,
      'a language model needs text: a .txt file or rows with a text field',
    );
  }
  return docs.filter((d) => d.trim() !== '');
}

/**
 * Splits documents into training and validation text without a separate file: each document's last
 * `share` (at a line or space boundary) is held out, so both parts see every document's style and
 * validation text is never trained on.
 */
export function holdoutTail(docs: readonly string[], share = 0.1): {train: string[]; val: string[]} {
  const train: string[] = [];
  const val: string[] = [];
  for (const doc of docs) {
    let cut = Math.floor(doc.length * (1 - share));
    const newline = doc.lastIndexOf('\n', cut);
    const space = doc.lastIndexOf(' ', cut);
    if (newline > cut - 2000 && newline > 0) cut = newline;
    else if (space > 0) cut = space;
    train.push(doc.slice(0, cut));
    val.push(doc.slice(cut));
  }
  return {train: train.filter((d) => d !== ''), val: val.filter((d) => d.trim() !== '')};
}

/** One token stream for all documents, each followed by the end-of-text id when the tokenizer has one. */
export async function encodeDocuments(tokenizer: Tokenizer, docs: readonly string[]): Promise<Int32Array> {
  const parts: number[][] = [];
  const eos = tokenizer.special.eos;
  for (let start = 0; start < docs.length; start += 256) {
    // Long documents (a book) are encoded a paragraph at a time, which the tokenizers' pre-splitting
    // makes identical to one call, and keeps each native call small.
    const chunk = docs.slice(start, start + 256);
    for (const doc of chunk) {
      const paragraphs = doc.split(/(?<=\n\n)/);
      const encoded = await tokenizer.encodeBatch(paragraphs);
      parts.push(encoded.flat());
      if (eos !== undefined) parts.push([eos]);
    }
  }
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Start offsets of the windows of `length + 1` tokens (inputs + next-token targets), `length` apart. */
export function windowStarts(tokens: number, length: number): number[] {
  const out: number[] = [];
  for (let start = 0; start + length + 1 <= tokens; start += length) out.push(start);
  return out;
}

/**
 * Batches of windows over a token stream: inputs [batch, length] and targets (the same tokens one
 * position on). Training shuffles the windows each epoch; validation reads them in order.
 */
export function lmBatchSource(
  stream: Int32Array,
  length: number,
  batchSize: number,
  seed: number,
  shuffle: boolean,
): BatchSource {
  const starts = windowStarts(stream.length, length);
  return arrayBatchSource(starts, {
    batchSize,
    seed,
    shuffle,
    collate: (picked) => {
      const inputs = new Int32Array(picked.length * length);
      const targets = new Int32Array(picked.length * length);
      picked.forEach((start, i) => {
        inputs.set(stream.subarray(start, start + length), i * length);
        targets.set(stream.subarray(start + 1, start + length + 1), i * length);
      });
      return {
        inputs: tf.tensor2d(inputs, [picked.length, length], 'int32'),
        targets: tf.tensor2d(targets, [picked.length, length], 'int32'),
        tokens: picked.length * length,
      };
    },
  });
}

/** What a language-model run reads: its data files and the text field of JSONL/CSV rows. */
export interface LMDataSource {
  data: string;
  val?: string;
  textField?: string;
}

/**
 * The training and validation token streams of a language-model run (train, distill). Validation is
 * `val`, else the last 10% of each document (`onHoldout` is told). The tokenizer comes from the
 * training documents (`tokenizerFor`); data shorter than one window of `length + 1` is a
 * DatasetError with `hint` as its fix.
 */
export async function readLMStreams<T extends Tokenizer>(
  source: LMDataSource,
  length: number,
  tokenizerFor: (trainDocs: string[]) => T | Promise<T>,
  hint: string,
  onHoldout?: (message: string) => void,
): Promise<{tokenizer: T; train: Int32Array; val: Int32Array}> {
  const docs = await readTextDocuments(source.data, source.textField);
  let split: {train: string[]; val: string[]};
  if (source.val) {
    split = {train: docs, val: await readTextDocuments(source.val, source.textField)};
  } else {
    split = holdoutTail(docs);
    onHoldout?.(`validation: the last 10% of each document of ${source.data}`);
  }
  const tokenizer = await tokenizerFor(split.train);
  const train = await encodeDocuments(tokenizer, split.train);
  if (windowStarts(train.length, length).length === 0) {
    throw new DatasetError(
      `${source.data}: ${train.length} training tokens, fewer than one window of ${length + 1}`,
      hint,
    );
  }
  return {tokenizer, train, val: await encodeDocuments(tokenizer, split.val)};
}

/** The flags a language-model run trains with, defaults filled in: the `training` block of its config. */
export function lmTrainingSettings(o: {
  batchSize?: number;
  lr?: number;
  seed?: number;
  weightDecay?: number;
  clipNorm?: number;
}): {batchSize: number; lr: number; seed: number; weightDecay: number; clipNorm: number} {
  return {
    batchSize: o.batchSize ?? 16,
    lr: o.lr ?? 1e-3,
    seed: o.seed ?? 42,
    weightDecay: o.weightDecay ?? 0.1,
    clipNorm: o.clipNorm ?? 1,
  };
}

/**
 * The engine options a language-model run shares between train and distill: shuffled training
 * windows, validation windows in order (none when the validation text is shorter than a window),
 * the optimizer, and early stopping on val_loss when `patience` is set.
 */
export function lmEngineData(
  streams: {train: Int32Array; val: Int32Array},
  length: number,
  settings: ReturnType<typeof lmTrainingSettings>,
  patience: number | undefined,
) {
  const hasVal = windowStarts(streams.val.length, length).length > 0;
  const {batchSize, seed} = settings;
  return {
    data: lmBatchSource(streams.train, length, batchSize, seed, true),
    validation: hasVal ? lmBatchSource(streams.val, length, batchSize, seed, false) : undefined,
    lr: settings.lr,
    optimizer: {weightDecay: settings.weightDecay},
    earlyStopping: patience && hasVal ? {metric: 'val_loss' as const, patience} : undefined,
  };
}
