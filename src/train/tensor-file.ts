import {open} from 'node:fs/promises';
import {join, relative} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ModelError, printable} from '../errors.js';
import {containedFile, FILE_LIMITS, readContainedFile, readContainedJson} from '../fs/contained-file.js';
import type {NamedTensor} from './named-variable.js';

/** One entry of a tensor file's index: where a tensor's bytes sit in the `.bin` file. */
interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  bytes: number;
}

interface TensorIndex {
  format: 'deepseek-kit/tensors';
  version: 1;
  tensors: TensorEntry[];
}

/** A tensor as read from disk, before it becomes a tf.Tensor. */
export interface StoredTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

/** Writes `data` and fsyncs it, so a rename that follows publishes complete bytes. */
export async function writeFileSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Saves named tensors as `<name>.json` (names, shapes, dtypes, offsets) and `<name>.bin` (raw
 * little-endian values): exact bits, any backend, no tfjs IO handler needed.
 */
export async function writeTensors(
  dir: string,
  name: string,
  tensors: readonly NamedTensor[],
): Promise<void> {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const {name: tensorName, tensor} of tensors) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') {
      throw new Error(`cannot save ${tensorName}: dtype ${tensor.dtype} (float32 and int32 only)`);
    }
    const values = (await tensor.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    entries.push({
      name: tensorName,
      shape: tensor.shape,
      dtype: tensor.dtype,
      offset,
      bytes: bytes.byteLength,
    });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const index: TensorIndex = {format: 'deepseek-kit/tensors', version: 1, tensors: entries};
  await writeFileSynced(join(dir, `${name}.bin`), Buffer.concat(chunks));
  await writeFileSynced(join(dir, `${name}.json`), `${JSON.stringify(index)}\n`);
}

/**
 * Reads what `writeTensors` wrote into `dir`, in the order written, under the containment rule of
 * `root` (the run folder: no link out of it, regular files, sizes checked). The index is checked
 * against the `.bin` file's size before a byte of it is read or a tensor allocated.
 */
export async function readTensors(dir: string, name: string, root = dir): Promise<StoredTensor[]> {
  const inside = (file: string) => relative(root, join(dir, file)) || file;
  const indexFile = `${name}.json`;
  const binFile = `${name}.bin`;
  const index = await readContainedJson(root, inside(indexFile), {
    maxBytes: FILE_LIMITS.modelJson,
    what: 'tensor index',
  });
  const bin = await containedFile(root, inside(binFile), {
    maxBytes: FILE_LIMITS.weights,
    what: 'tensor data',
  });
  const entries = checkTensorIndex(index, bin.size, join(dir, indexFile));
  const data = await readContainedFile(root, inside(binFile), {
    maxBytes: FILE_LIMITS.weights,
    what: 'tensor data',
  });
  return entries.map((e) => {
    const copy = new ArrayBuffer(e.bytes);
    new Uint8Array(copy).set(data.subarray(e.offset, e.offset + e.bytes));
    const values = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return {name: e.name, shape: e.shape, dtype: e.dtype, values};
  });
}

const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The entries of a tensor index, each checked (name, dtype, shape, and bytes = 4 per element lying
 * within the `binBytes` of its `.bin`), or a ModelError naming the file, the entry and the field.
 */
function checkTensorIndex(index: unknown, binBytes: number, file: string): TensorEntry[] {
  const hint = 'the checkpoint is damaged; delete it to resume from an older one';
  const json = index as Partial<TensorIndex> | null;
  if (typeof json !== 'object' || json === null || json.format !== 'deepseek-kit/tensors') {
    throw new ModelError(`${file}: not a tensor index (format is not "deepseek-kit/tensors")`, hint);
  }
  if (!Array.isArray(json.tensors)) throw new ModelError(`${file}: "tensors" is not a list`, hint);
  return json.tensors.map((e: Partial<TensorEntry>, i) => {
    const at = `${file}: tensors[${i}]`;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string') {
      throw new ModelError(`${at}.name is not a string`, hint);
    }
    if (e.dtype !== 'float32' && e.dtype !== 'int32') {
      throw new ModelError(`${at}.dtype is ${printable(String(e.dtype), 40)}, not float32 or int32`, hint);
    }
    if (!Array.isArray(e.shape) || e.shape.length > 8 || !e.shape.every(count)) {
      throw new ModelError(`${at}.shape is not a list of at most 8 sizes`, hint);
    }
    if (!count(e.offset) || !count(e.bytes)) {
      throw new ModelError(`${at}: offset and bytes must be non-negative integers`, hint);
    }
    const elements = e.shape.reduce((a, b) => a * b, 1);
    if (e.bytes !== 4 * elements) {
      throw new ModelError(`${at}.bytes is ${e.bytes}, but shape [${e.shape}] needs ${4 * elements}`, hint);
    }
    if (e.offset + e.bytes > binBytes) {
      throw new ModelError(
        `${at} (${printable(e.name, 80)}) ends at byte ${e.offset + e.bytes}, the .bin holds ${binBytes}`,
        'the .bin is truncated; delete the checkpoint to resume from an older one',
      );
    }
    return e as TensorEntry;
  });
}

/** A stored tensor as a tf.Tensor (the caller disposes it). */
export function toTensor(stored: StoredTensor): tf.Tensor {
  return tf.tensor(stored.values, stored.shape, stored.dtype);
}
