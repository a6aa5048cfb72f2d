import {readFile} from 'node:fs/promises';
import {extname} from 'node:path';
import {parse as parseYaml} from 'yaml';
import {ConfigError} from '../errors.js';

export interface LoadModelConfigOptions<C extends object> {
  /** Every key the family knows, with its default: the schema unknown keys are checked against. */
  defaults: C;
  /** Named partial configs (`tiny`, `small`…), applied over the defaults. */
  presets?: Readonly<Record<string, Partial<C>>>;
  /** A preset name; unknown names are a ConfigError listing the known ones. */
  preset?: string;
  /** A YAML or JSON file with some of the keys, applied over the preset. */
  configFile?: string;
  /** Last word (command-line flags); `undefined` values are ignored. */
  overrides?: Partial<C>;
  /** Family name for messages (`classifier`, `causal-lm`). */
  family?: string;
  /**
   * Keys a config may set that the defaults leave out (nested like the config, each with a value of
   * its type): accepted when given, absent otherwise, so configs written before them stay equal.
   */
  optional?: Record<string, unknown>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges defaults ← preset ← config file ← overrides (as mlx-lm merges YAML defaults with flags).
 * Every key must exist in `defaults` (nested objects are checked key by key) and keep its type, so
 * a typo like `dmodel` fails with the key's path instead of being silently ignored.
 */
export async function loadModelConfig<C extends object>(options: LoadModelConfigOptions<C>): Promise<C> {
  const family = options.family ?? 'model';
  let config = structuredClone(options.defaults) as Record<string, unknown>;
  if (options.preset !== undefined) {
    const preset = options.presets?.[options.preset];
    if (!preset) {
      const known = Object.keys(options.presets ?? {}).join(', ') || 'none';
      throw new ConfigError(`unknown ${family} preset "${options.preset}"`, `known presets: ${known}`);
    }
    config = mergeConfig(config, preset, `preset ${options.preset}`, '', options.optional);
  }
  if (options.configFile !== undefined) {
    const file = await readConfigFile(options.configFile);
    config = mergeConfig(config, file, options.configFile, '', options.optional);
  }
  if (options.overrides) {
    config = mergeConfig(config, dropUndefined(options.overrides), 'flags', '', options.optional);
  }
  return config as C;
}

/** Parses a YAML (.yaml/.yml) or JSON config file into an object; errors name the file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const kind = extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  let parsed: unknown;
  try {
    parsed = kind === 'JSON' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid ${kind}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed))
    throw new ConfigError(`${path}: expected a mapping of config keys at the top level`);
  return parsed;
}

function dropUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * `base` with `patch` applied; every key of `patch` must be in `base` (or in `optional`, the keys it
 * may add) with a value of the same kind. `null` is allowed where the default is null or an object
 * (an optional sub-config turned off).
 */
export function mergeConfig(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
  source: string,
  prefix = '',
  optional: Record<string, unknown> = {},
): Record<string, unknown> {
  const out = {...base};
  for (const [key, value] of Object.entries(patch)) {
    const path = `${prefix}${key}`;
    if (!(key in base) && !(key in optional)) {
      const known = [...Object.keys(base), ...Object.keys(optional).filter((k) => !(k in base))].join(', ');
      throw new ConfigError(`${source}: unknown config key "${path}"`, `known keys here: ${known}`);
    }
    const current = key in base ? base[key] : optional[key];
    if (isPlainObject(current) && isPlainObject(value)) {
      const nested = isPlainObject(optional[key]) && key in base ? optional[key] : {};
      out[key] = mergeConfig(key in base ? current : {}, value, source, `${path}.`, nested);
    } else if (value === null && (current === null || isPlainObject(current))) {
      out[key] = null;
    } else if (current === null && isPlainObject(value)) {
      out[key] = value;
    } else if (current !== null && current !== undefined && typeof current !== typeof value) {
      throw new ConfigError(
        `${source}: config key "${path}" must be a ${typeof current}, got ${JSON.stringify(value)}`,
      );
    } else {
      out[key] = value;
    }
  }
  return out;
}
