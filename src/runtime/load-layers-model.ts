import * as tf from '@tensorflow/tfjs';
import {decodeWeightData, needsDecoding} from '../compress/weight-codec.js';
import './layers.js';

export interface LoadLayersOptions {
  /** Passed to tfjs's http loader (credentials, headers). */
  requestInit?: RequestInit;
  /** A fetch to use instead of the global one. */
  fetchFunc?: typeof fetch;
  /** Progress of the weight download, 0..1. */
  onProgress?: (fraction: number) => void;
}

/** model.json and its weights as fetched, and a fetch confined to the model's folder for its other files. */
export interface FetchedModel {
  artifacts: tf.io.ModelArtifacts;
  fetchInFolder: typeof fetch;
  /** The model folder's URL (ends in /). */
  folder: URL;
}

/** Fetches model.json and its weight shards, requesting nothing outside the model's folder. */
export async function fetchModel(url: string, options: LoadLayersOptions = {}): Promise<FetchedModel> {
  const page = (globalThis as {location?: {href: string}}).location?.href;
  const folder = new URL('.', new URL(url, page));
  const fetchInFolder = insideFolderFetch(folder, options.fetchFunc ?? ((input, init) => fetch(input, init)));
  const handler = tf.io.http(url, {
    requestInit: options.requestInit,
    fetchFunc: fetchInFolder,
    onProgress: options.onProgress,
  });
  return {artifacts: await handler.load!(), fetchInFolder, folder};
}

/** The LayersModel of fetched artifacts; the kit's int8/int4 weights are dequantized to float32 first. */
export async function layersModelFrom(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  const specs = artifacts.weightSpecs ?? [];
  if (!needsDecoding(specs)) return tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const decoded = decodeWeightData(specs, joinWeightData(artifacts.weightData));
  return tf.loadLayersModel(
    tf.io.fromMemory({...artifacts, weightSpecs: decoded.specs, weightData: decoded.data}),
  );
}

/**
 * The tfjs LayersModel of an export, from the URL of its model.json. Models in tfjs's own formats
 * (float32, float16, uint8, uint16) load as with `tf.loadLayersModel`; the kit's int8/int4 weights
 * are dequantized to float32 first. `loadModel` wraps this with tokenization and decoding.
 */
export async function loadLayersModel(url: string, options: LoadLayersOptions = {}): Promise<tf.LayersModel> {
  return layersModelFrom((await fetchModel(url, options)).artifacts);
}

/**
 * A fetch that refuses URLs outside `folder`: a model.json whose weight paths point elsewhere
 * (`../../x`, another host) fails before anything is requested from there.
 */
function insideFolderFetch(folder: URL, inner: typeof fetch): typeof fetch {
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
