import type * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../errors.js';

/** The base args every tfjs layer takes (name, trainable, inputShape...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The base-layer keys of a serialized config that a layer standing in for another keeps. */
const BASE_LAYER_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputDType'] as const;

/** The base-layer args of a serialized layer config (name, trainable, input shape…), as LayerArgs. */
export function baseLayerArgs(config: tf.serialization.ConfigDict): LayerArgs {
  return Object.fromEntries(
    BASE_LAYER_KEYS.filter((k) => config[k] !== undefined && config[k] !== null).map((k) => [k, config[k]]),
  ) as LayerArgs;
}

// Constructor-time argument checks shared by the layers in this folder. Each throws a ConfigError
// that names the layer, the argument, the allowed range and the value it got.

export function checkInt(layer: string, arg: string, value: number, min: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ConfigError(`${layer}: ${arg} must be an integer ${range}, got ${value}`);
  }
  return value;
}

export function checkRange(
  layer: string,
  arg: string,
  value: number,
  min: number,
  max: number,
  maxInclusive = true,
): number {
  const ok = Number.isFinite(value) && value >= min && (maxInclusive ? value <= max : value < max);
  if (!ok) {
    throw new ConfigError(
      `${layer}: ${arg} must be in [${min}, ${max}${maxInclusive ? ']' : ')'}, got ${value}`,
    );
  }
  return value;
}

export function checkPositive(layer: string, arg: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${layer}: ${arg} must be a finite number > 0, got ${value}`);
  }
  return value;
}

export function checkChoice<T extends string>(
  layer: string,
  arg: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${layer}: unknown ${arg} '${value}' — use one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function checkDivides(
  layer: string,
  arg: string,
  value: number,
  otherArg: string,
  other: number,
): void {
  if (other % value !== 0) {
    throw new ConfigError(`${layer}: ${arg} (${value}) must divide ${otherArg} (${other})`);
  }
}
