import * as tf from '@tensorflow/tfjs';
import {ModelError} from '../errors.js';
import {specByteLength} from './weight-codec.js';

/**
 * What a model.json asks for, checked before anything is allocated: every weight's shape is a list
 * of whole numbers, its bytes (elements × dtype size, or the kit's int8/int4 layout) are what the
 * shards must hold, the shard list is bounded and without repeats, and no size in the topology
 * exceeds what the weights could describe. Building the model then may create no more weight
 * elements than the manifest lists (`withWeightBudget`), so a topology that asks for a
 * 10⁸-row embedding fails at once instead of allocating gigabytes.
 */

/** Most shard files a model.json may list (4 MB each: 40 GB). */
export const MAX_SHARDS = 10_000;
/** Largest tensor tfjs can hold (elements). */
const MAX_ELEMENTS = 2 ** 31 - 1;
/** Sizes in the topology up to this are always accepted (sequence lengths of tiny models). */
const MIN_SIZE_BOUND = 65_536;

export interface ManifestSummary {
  /** Bytes the weight data must hold. */
  bytes: number;
  /** Weight elements, all tensors together. */
  elements: number;
}

/** Checks the weight entries of a manifest; returns the bytes and elements they take. */
export function checkWeightSpecs(specs: readonly unknown[], jsonPath: string): ManifestSummary {
  let bytes = 0;
  let elements = 0;
  for (const [i, raw] of specs.entries()) {
    const spec = raw as tf.io.WeightsManifestEntry;
    const where = `${jsonPath}: weightsManifest weight ${i + 1}`;
    if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string') {
      throw new ModelError(`${where} has no "name"`, 'the model file is damaged');
    }
    const name = JSON.stringify(spec.name.slice(0, 80));
    if (
      !Array.isArray(spec.shape) ||
      !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= MAX_ELEMENTS)
    ) {
      throw new ModelError(
        `${where} (${name}): "shape" must be a list of whole numbers, got ${JSON.stringify(spec.shape)?.slice(0, 80)}`,
        'the model file is damaged',
      );
    }
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (count > MAX_ELEMENTS) {
      throw new ModelError(`${where} (${name}): shape [${spec.shape.join(', ')}] is too large to load`);
    }
    let length: number | undefined;
    try {
      length = specByteLength(spec);
    } catch {
      length = undefined;
    }
    if (length === undefined || !Number.isSafeInteger(length) || length < 0) {
      throw new ModelError(
        `${where} (${name}): unknown dtype or encoding ${JSON.stringify(spec.quantization?.dtype ?? spec.dtype)}`,
        'the kit reads float32, int32, bool, float16, uint8/uint16 and its own int8/int4',
      );
    }
    bytes += length;
    elements += count;
  }
  return {bytes, elements};
}

/**
 * Every whole number in the topology's layer configs (but seeds) must be at most the weight
 * elements (or 65,536): a dimension larger than all weights together cannot be one of them, and a
 * sequence length that large would allocate far beyond the shards.
 */
export function checkTopologySizes(topology: unknown, elements: number, jsonPath: string): void {
  const bound = Math.max(MIN_SIZE_BOUND, elements);
  const visit = (value: unknown, path: string, depth: number): void => {
    if (depth > 64) throw new ModelError(`${jsonPath}: modelTopology is nested too deeply (at ${path})`);
    if (typeof value === 'number') {
      if (Number.isInteger(value) && Math.abs(value) > bound) {
        throw new ModelError(
          `${jsonPath}: modelTopology ${path} is ${value}, larger than the ${elements} weights the manifest lists`,
          'the model file is damaged or was edited; refusing to build it',
        );
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, `${path}[${i}]`, depth + 1);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'seed') continue;
        visit(v, path ? `${path}.${k}` : k, depth + 1);
      }
    }
  };
  visit(topology, '', 0);
}

type AddWeight = (...args: unknown[]) => unknown;
const layerPrototype = () => tf.layers.Layer.prototype as unknown as {addWeight: AddWeight};

/** Elements layers may still create while a model is being built, for every load in flight. */
let budget: {left: number} | undefined;
/** tfjs's own addWeight while loads are in flight (the guard below stands in for it), else undefined. */
let original: AddWeight | undefined;
let loads = 0;

/** addWeight that refuses a weight larger than what is left of the budget, then calls tfjs's. */
function guardedAddWeight(this: unknown, ...args: unknown[]): unknown {
  const shape = args[1];
  if (budget && Array.isArray(shape)) {
    const count = (shape as number[]).reduce((a, b) => a * (Number.isFinite(b) ? b : 0), 1);
    if (count > budget.left) {
      throw new ModelError(
        `the model's layers ask for a weight "${String(args[0])}" of shape [${shape.join(', ')}], more than the manifest's weights`,
        'model.json is damaged or was edited; refusing to allocate it',
      );
    }
    budget.left -= count;
  }
  return original!.apply(this, args);
}

/**
 * Runs `build` (which deserializes a model) while the layers it creates may allocate at most
 * `elements` weight elements between them. Loads in flight at the same time share one budget.
 * tfjs offers no per-model hook for a layer creating its weights, so the guard stands in for
 * `Layer.prototype.addWeight` only while a load is in flight and tfjs's own is put back when the
 * last one ends: importing the kit, or building a model outside a load, changes nothing in tfjs.
 */
export async function withWeightBudget<T>(elements: number, build: () => Promise<T>): Promise<T> {
  const proto = layerPrototype();
  if (loads++ === 0) {
    original = proto.addWeight;
    proto.addWeight = guardedAddWeight;
  }
  const outer = budget;
  budget = {left: (outer?.left ?? 0) + elements};
  try {
    return await build();
  } finally {
    budget = outer;
    if (--loads === 0) {
      proto.addWeight = original!;
      original = undefined;
    }
  }
}
