import {readFileSync} from 'node:fs';
import {parse as parseYaml} from 'yaml';
import {ConfigError} from '../../errors.js';
import {type NormalizeOptions, parseNormalizeOptions} from '../dedup/normalize.js';
import type {Doc, Verdict} from '../doc.js';
import {BOILERPLATE_DEFAULTS, boilerplate, LOREM_IPSUM_DEFAULTS, loremIpsum} from './boilerplate.js';
import {C4_DEFAULTS, c4, c4RemoveLines} from './c4.js';
import {
  MOJIBAKE_DEFAULTS,
  mojibake,
  NON_TEXT_DEFAULTS,
  nonText,
  notEmpty,
  SYMBOL_RATIO_DEFAULTS,
  symbolRatio,
} from './default-rules.js';
import {FINEWEB_DEFAULTS, fineweb} from './fineweb.js';
import {
  ENCODED_BLOB_DEFAULTS,
  encodedBlob,
  KEYBOARD_MASH_DEFAULTS,
  keyboardMash,
  RANDOM_SYMBOLS_DEFAULTS,
  randomSymbols,
} from './garbled-text.js';
import {GOPHER_QUALITY_DEFAULTS, gopherQuality} from './gopher-quality.js';
import {GOPHER_REPETITION_DEFAULTS, gopherRepetition} from './gopher-repetition.js';
import {REPEATED_LINES_DEFAULTS, repeatedLines} from './repeated-lines.js';
import {
  MARKUP_SOUP_DEFAULTS,
  markupSoup,
  NUMBER_GRID_DEFAULTS,
  numberGrid,
  URL_LIST_DEFAULTS,
  urlList,
} from './structured-junk.js';
import {WORD_SALAD_DEFAULTS, wordSalad} from './word-salad.js';

/** A quality rule: a pure function of the document. */
export type DocFilter = (doc: Doc) => Verdict;
/** A text fix: rewrites the text of a kept document (C4's line removal, HTML stripping). */
export type TextFix = (text: string) => string;

interface RuleSpec<C extends object> {
  defaults: C;
  filter: (config: C) => DocFilter;
  fix?: (config: C) => TextFix | undefined;
}

const rule = <C extends object>(spec: RuleSpec<C>) => spec;

/** Every rule by the name config files use, in the order they run. */
export const RULES = {
  empty: rule({defaults: {}, filter: notEmpty}),
  non_text: rule({defaults: NON_TEXT_DEFAULTS, filter: nonText}),
  mojibake: rule({defaults: MOJIBAKE_DEFAULTS, filter: mojibake}),
  symbol_ratio: rule({defaults: SYMBOL_RATIO_DEFAULTS, filter: symbolRatio}),
  encoded_blob: rule({defaults: ENCODED_BLOB_DEFAULTS, filter: encodedBlob}),
  random_symbols: rule({defaults: RANDOM_SYMBOLS_DEFAULTS, filter: randomSymbols}),
  keyboard_mash: rule({defaults: KEYBOARD_MASH_DEFAULTS, filter: keyboardMash}),
  number_grid: rule({defaults: NUMBER_GRID_DEFAULTS, filter: numberGrid}),
  url_list: rule({defaults: URL_LIST_DEFAULTS, filter: urlList}),
  markup_soup: rule({defaults: MARKUP_SOUP_DEFAULTS, filter: markupSoup}),
  lorem_ipsum: rule({defaults: LOREM_IPSUM_DEFAULTS, filter: loremIpsum}),
  boilerplate: rule({defaults: BOILERPLATE_DEFAULTS, filter: boilerplate}),
  repeated_lines: rule({defaults: REPEATED_LINES_DEFAULTS, filter: repeatedLines}),
  word_salad: rule({defaults: WORD_SALAD_DEFAULTS, filter: wordSalad}),
  // FineWeb's order (Penedo et al. 2024, Fig. 1): Gopher repetition, Gopher quality, C4, FineWeb.
  gopher_repetition: rule({defaults: GOPHER_REPETITION_DEFAULTS, filter: gopherRepetition}),
  gopher_quality: rule({defaults: GOPHER_QUALITY_DEFAULTS, filter: gopherQuality}),
  c4: rule({defaults: C4_DEFAULTS, filter: c4, fix: (c) => (c.remove_lines ? c4RemoveLines(c) : undefined)}),
  fineweb: rule({defaults: FINEWEB_DEFAULTS, filter: fineweb}),
};
export type RuleName = keyof typeof RULES;
const RULE_NAMES = Object.keys(RULES) as RuleName[];

export const FILTER_PRESETS = ['default', 'web', 'none'] as const;
export type FilterPreset = (typeof FILTER_PRESETS)[number];

const DEFAULT_RULES: RuleName[] = [
  'empty',
  'non_text',
  'mojibake',
  'symbol_ratio',
  'encoded_blob',
  'random_symbols',
  'keyboard_mash',
  'number_grid',
  'url_list',
  'markup_soup',
  'lorem_ipsum',
  'boilerplate',
  'repeated_lines',
  'word_salad',
];

const PRESET_RULES: Record<FilterPreset, RuleName[]> = {
  none: [],
  // Only what is clearly not prose: safe for reviews, tweets and one-liners.
  default: DEFAULT_RULES,
  // For web crawls: the default rules, then Gopher, C4 and FineWeb with their published thresholds.
  web: [...DEFAULT_RULES, 'gopher_repetition', 'gopher_quality', 'c4', 'fineweb'],
};

/** Which rules run with which thresholds, the text fixes, and exact dedup's normalization. */
export interface FilterConfig {
  preset: FilterPreset;
  /** Enabled rules and their full threshold sets (file values over defaults). */
  rules: Partial<Record<RuleName, Record<string, unknown>>>;
  stripHtml: boolean;
  normalize: NormalizeOptions;
}

/** A preset's config. */
export function presetConfig(preset: FilterPreset): FilterConfig {
  const rules: FilterConfig['rules'] = {};
  for (const name of PRESET_RULES[preset]) rules[name] = {...RULES[name].defaults};
  return {preset, rules, stripHtml: false, normalize: {}};
}

/** `default`, `web`, `none`, or the path of a YAML/JSON file that starts from a preset and overrides it. */
export function loadFilterConfig(spec: string): FilterConfig {
  if ((FILTER_PRESETS as readonly string[]).includes(spec)) return presetConfig(spec as FilterPreset);
  let source: string;
  try {
    source = readFileSync(spec, 'utf8');
  } catch {
    throw new ConfigError(
      `--filters ${spec}: not a preset and no such file`,
      `use ${FILTER_PRESETS.join(', ')} or the path of a YAML/JSON filter config`,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(source);
  } catch (error) {
    throw new ConfigError(`${spec}: not valid YAML/JSON (${(error as Error).message.split('\n')[0]})`);
  }
  return parseFilterConfig(value ?? {}, spec);
}

const TOP_KEYS = ['preset', 'rules', 'strip_html', 'normalize'];

/**
 * Checks a filter config object (from a file) and merges it over its preset. Unknown keys, rule
 * names and thresholds are errors that name the key and list the valid ones.
 */
export function parseFilterConfig(value: unknown, where = 'filter config'): FilterConfig {
  const top = asMap(value, where);
  for (const key of Object.keys(top)) {
    if (!TOP_KEYS.includes(key)) throw unknownKey(where, key, TOP_KEYS);
  }
  const preset = top.preset ?? 'default';
  if (!(FILTER_PRESETS as readonly unknown[]).includes(preset)) {
    throw new ConfigError(
      `${where}: preset ${JSON.stringify(preset)} is not one of ${FILTER_PRESETS.join(', ')}`,
    );
  }
  const config = presetConfig(preset as FilterPreset);
  if (top.strip_html !== undefined) {
    if (typeof top.strip_html !== 'boolean')
      throw new ConfigError(`${where}: strip_html must be true or false`);
    config.stripHtml = top.strip_html;
  }
  if (top.normalize !== undefined)
    config.normalize = parseNormalizeOptions(top.normalize, `${where}: normalize`);
  for (const [name, setting] of Object.entries(asMap(top.rules ?? {}, `${where}: rules`))) {
    if (!(name in RULES)) throw unknownKey(`${where}: rules`, name, RULE_NAMES);
    const ruleName = name as RuleName;
    if (setting === false) {
      delete config.rules[ruleName];
      continue;
    }
    const merged: Record<string, unknown> = {...RULES[ruleName].defaults, ...config.rules[ruleName]};
    if (setting !== true && setting !== null) {
      for (const [key, v] of Object.entries(asMap(setting, `${where}: rules.${name}`))) {
        const defaults = RULES[ruleName].defaults as Record<string, unknown>;
        if (!(key in defaults)) throw unknownKey(`${where}: rules.${name}`, key, Object.keys(defaults));
        merged[key] = checkValue(v, defaults[key], `${where}: rules.${name}.${key}`);
      }
    }
    config.rules[ruleName] = merged;
  }
  return config;
}

/** One step of the cleaning chain: a filter or a text fix, named after its rule. */
export interface CleanStep {
  rule: string;
  filter?: DocFilter;
  fix?: TextFix;
}

/** The config's rules as steps, in run order (a rule's fix right after its filter). */
export function buildSteps(config: FilterConfig): CleanStep[] {
  const steps: CleanStep[] = [];
  for (const name of RULE_NAMES) {
    const settings = config.rules[name];
    if (!settings) continue;
    const spec = RULES[name] as RuleSpec<Record<string, unknown>>;
    steps.push({rule: name, filter: spec.filter(settings)});
    const fix = spec.fix?.(settings);
    if (fix) steps.push({rule: name, fix});
  }
  return steps;
}

function asMap(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${where}: expected a map of keys to values, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function unknownKey(where: string, key: string, valid: readonly string[]): ConfigError {
  return new ConfigError(`${where}: unknown key "${key}"`, `valid keys: ${valid.join(', ')}`);
}

/** A value must have the type of the default it replaces; [n, ratio] lists are checked pairwise. */
function checkValue(value: unknown, like: unknown, where: string): unknown {
  if (typeof like === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`${where}: expected a number >= 0, got ${JSON.stringify(value)}`);
    }
    return value;
  }
  if (typeof like === 'boolean') {
    if (typeof value !== 'boolean')
      throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  if (Array.isArray(like)) {
    if (!Array.isArray(value))
      throw new ConfigError(`${where}: expected a list, got ${JSON.stringify(value)}`);
    if (typeof like[0] === 'string') {
      if (!value.every((v) => typeof v === 'string'))
        throw new ConfigError(`${where}: expected a list of words`);
      return value;
    }
    for (const pair of value) {
      const ok =
        Array.isArray(pair) &&
        pair.length === 2 &&
        Number.isInteger(pair[0]) &&
        pair[0] >= 1 &&
        typeof pair[1] === 'number' &&
        pair[1] >= 0;
      if (!ok)
        throw new ConfigError(`${where}: expected a list of [n, ratio] pairs, got ${JSON.stringify(pair)}`);
    }
    return value;
  }
  return value;
}
