import {open, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
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

/** Reads what `writeTensors` wrote, in the order written. */
export async function readTensors(dir: string, name: string): Promise<StoredTensor[]> {
  const index = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as TensorIndex;
  if (index.format !== 'deepseek-kit/tensors')
    throw new Error(`${join(dir, `${name}.json`)}: not a tensor index`);
  const bin = await readFile(join(dir, `${name}.bin`));
  return index.tensors.map((e) => {
    if (e.offset + e.bytes > bin.byteLength)
      throw new Error(`${join(dir, `${name}.bin`)}: truncated at ${e.name}`);
    const copy = new ArrayBuffer(e.bytes);
    new Uint8Array(copy).set(bin.subarray(e.offset, e.offset + e.bytes));
    const values = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return {name: e.name, shape: e.shape, dtype: e.dtype, values};
  });
}

/** A stored tensor as a tf.Tensor (the caller disposes it). */
export function toTensor(stored: StoredTensor): tf.Tensor {
  return tf.tensor(stored.values, stored.shape, stored.dtype);
}
