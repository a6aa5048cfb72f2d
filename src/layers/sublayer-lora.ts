import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../errors.js';
import {LoRADense, type LoRASpec, resolveLoRASpec} from './lora-dense.js';

/**
 * LoRA for the projections inside a composite layer: the adapter shape plus the child paths that get
 * one, relative to the composite (`q`, `v` for attention; `attn/q`, `ffn/down` for a decoder block).
 * It lives in the composite's config, so a saved model rebuilds with the same adapters.
 */
export interface SublayerLoRA extends LoRASpec {
  targets: string[];
}

/** Checks a composite's `lora` config: spec ranges, and every target is a projection it has. */
export function resolveSublayerLoRA(
  owner: string,
  lora: SublayerLoRA | null | undefined,
  sites: readonly string[],
): SublayerLoRA | null {
  if (!lora) return null;
  const unknown = lora.targets.filter((t) => !sites.includes(t));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${owner}: lora target '${unknown[0]}' is not a projection here — use some of ${sites.join(', ')}`,
    );
  }
  return {...resolveLoRASpec(owner, lora), targets: [...lora.targets]};
}

/** The part of `lora` that applies inside child `prefix`, with paths relative to it. */
export function childLoRA(lora: SublayerLoRA | null, prefix: string): SublayerLoRA | null {
  if (!lora) return null;
  const targets = lora.targets
    .filter((t) => t.startsWith(`${prefix}/`))
    .map((t) => t.slice(prefix.length + 1));
  return targets.length > 0 ? {...lora, targets} : null;
}

export interface ProjectionArgs {
  name: string;
  units: number;
  useBias: boolean;
  lora: SublayerLoRA | null;
}

/** A Dense, or a LoRADense when `name` is one of the LoRA targets. */
export function projection({name, units, useBias, lora}: ProjectionArgs): tf.layers.Layer {
  if (lora?.targets.includes(name)) {
    const {rank, alpha, rslora, dropout} = lora;
    return new LoRADense({name, units, useBias, rank, alpha, rslora, dropout});
  }
  return tf.layers.dense({name, units, useBias, kernelInitializer: 'glorotUniform'});
}

/** `lora` as it goes into getConfig (null when off). */
export function loraConfig(lora: SublayerLoRA | null): tf.serialization.ConfigDict | null {
  return lora ? {...lora, targets: [...lora.targets]} : null;
}
