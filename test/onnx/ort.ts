import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';

/** An ONNX Runtime session over model bytes (CPU, ORT's default options unless given). */
export function session(
  bytes: Uint8Array,
  options?: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, options);
}

/**
 * ONNX Runtime fuses DequantizeLinear(int8) + MatMul into MatMulNBits, which by default (accuracy
 * level 4) also quantizes the activations to int8 for speed; level 1 computes in float32, which
 * is the kit's own int8 arithmetic.
 */
export const FLOAT_ACCUMULATION: ort.InferenceSession.SessionOptions = {
  extra: {session: {qdq_matmulnbits_accuracy_level: '1'}},
};

/** Token ids [rows][t] as the int64 `input_ids` tensor. */
export function idsTensor(ids: readonly (readonly number[])[]): ort.Tensor {
  const flat = BigInt64Array.from(ids.flat(), BigInt);
  return new ort.Tensor('int64', flat, [ids.length, ids[0]!.length]);
}

/** Rows of a [n, k] (or [n, t, k]) output as nested arrays, for maxDiff. */
export function rowsOf(t: ort.Tensor): number[][] {
  const data = t.data as Float32Array;
  const k = t.dims.at(-1)!;
  return Array.from({length: data.length / k}, (_, i) => Array.from(data.subarray(i * k, (i + 1) * k)));
}

/** The kit model's output for the same input, as rows. */
export function kitRows(model: tf.LayersModel, input: tf.Tensor): number[][] {
  return tf.tidy(() => {
    const out = model.predict(input) as tf.Tensor;
    const k = out.shape.at(-1)!;
    return tf.reshape(out, [-1, k]).arraySync() as number[][];
  });
}

export function maxDiff(a: number[][], b: number[][]): number {
  if (a.length !== b.length) throw new Error(`row counts differ: ${a.length} vs ${b.length}`);
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}

/** Empty past key/values for a first decoding step: [batch, kvHeads, 0, headDim] each. */
export function emptyPast(s: ort.InferenceSession, batch: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
    const meta = s.inputMetadata.find((m) => m.name === name) as {shape: (number | string)[]} | undefined;
    const [, kv, , hd] = meta!.shape as [unknown, number, unknown, number];
    feeds[name] = new ort.Tensor('float32', new Float32Array(0), [batch, kv, 0, hd]);
  }
  return feeds;
}

/** Index of the largest value in row `row` of a [.., V] float array. */
export function argmaxAt(data: Float32Array, row: number, width: number): number {
  let best = 0;
  for (let v = 1; v < width; v++) if (data[row * width + v]! > data[row * width + best]!) best = v;
  return best;
}

/**
 * Greedy decoding of an exported causal LM in ONNX Runtime: with `useCache` each step feeds only
 * the new token and the previous step's `present.*` as `past_key_values.*`; without, it feeds the
 * whole sequence with an empty past every step.
 */
export async function onnxGreedy(
  s: ort.InferenceSession,
  prompt: readonly number[],
  steps: number,
  useCache: boolean,
): Promise<number[]> {
  const seq = [...prompt];
  let feeds: Record<string, ort.Tensor> = {input_ids: idsTensor([seq]), ...emptyPast(s, 1)};
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const result = await s.run(feeds);
    const logits = result.logits!;
    const [, t, vocab] = logits.dims as [number, number, number];
    const next = argmaxAt(logits.data as Float32Array, t - 1, vocab);
    out.push(next);
    seq.push(next);
    if (useCache) {
      feeds = {input_ids: idsTensor([[next]])};
      for (const name of s.outputNames.filter((n) => n.startsWith('present.'))) {
        feeds[name.replace('present.', 'past_key_values.')] = result[name]!;
      }
    } else {
      feeds = {input_ids: idsTensor([seq]), ...emptyPast(s, 1)};
    }
  }
  return out;
}
