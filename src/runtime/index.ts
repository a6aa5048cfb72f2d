/**
 * deepseek-kit's browser runtime (`deepseek-kit/runtime`): registers the kit's layer classes with
 * tfjs and loads exported models, decoding per-channel int8/int4 weights at load. No Node-only
 * imports: it bundles for the browser with `@tensorflow/tfjs` as the one dependency.
 */
import * as tf from '@tensorflow/tfjs';
import {decodeWeightData, needsDecoding} from '../compress/weight-codec.js';
import './layers.js';

export {decodeWeightData, needsDecoding} from '../compress/weight-codec.js';

export interface LoadModelOptions {
  /** Passed to tfjs's http loader (credentials, headers). */
  requestInit?: RequestInit;
  /** A fetch to use instead of the global one. */
  fetchFunc?: typeof fetch;
  /** Progress of the weight download, 0..1. */
  onProgress?: (fraction: number) => void;
}

/**
 * Loads an exported model from the URL of its model.json. Models in tfjs's own formats (float32,
 * float16, uint8, uint16) load as with `tf.loadLayersModel`; the kit's int8/int4 weights are
 * dequantized to float32 first.
 */
export async function loadModel(url: string, options: LoadModelOptions = {}): Promise<tf.LayersModel> {
  const handler = tf.io.http(url, {
    requestInit: options.requestInit,
    fetchFunc: insideFolderFetch(url, options.fetchFunc ?? ((input, init) => fetch(input, init))),
    onProgress: options.onProgress,
  });
  const artifacts = await handler.load!();
  const specs = artifacts.weightSpecs ?? [];
  if (!needsDecoding(specs)) return tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const decoded = decodeWeightData(specs, joinWeightData(artifacts.weightData));
  return tf.loadLayersModel(
    tf.io.fromMemory({...artifacts, weightSpecs: decoded.specs, weightData: decoded.data}),
  );
}

/**
 * A fetch that refuses URLs outside the folder of `modelUrl`: a model.json whose weight paths
 * point elsewhere (`../../x`, another host) fails before anything is requested from there.
 */
function insideFolderFetch(modelUrl: string, inner: typeof fetch): typeof fetch {
  const page = (globalThis as {location?: {href: string}}).location?.href;
  const folder = new URL('.', new URL(modelUrl, page));
  return (input, init) => {
    const target = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      folder,
    );
    if (target.origin !== folder.origin || !target.pathname.startsWith(folder.pathname)) {
      return Promise.reject(
        new Error(`${target.href} is outside the model folder ${folder.href}; refusing to fetch it`),
      );
    }
    return inner(input, init).then((res) => {
      if (!res.ok) throw new Error(`cannot load ${target.href}: HTTP ${res.status}`);
      return res;
    });
  };
}

/** labels.json of an export (class names by output index). */
export async function loadLabels(url: string, fetchFunc: typeof fetch = fetch): Promise<string[]> {
  const res = await fetchFunc(url);
  if (!res.ok) throw new Error(`cannot load labels from ${url}: HTTP ${res.status}`);
  return (await res.json()) as string[];
}

function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}
