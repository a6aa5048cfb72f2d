import {ModelError} from '../errors.js';
import type {SpecialRole, SpecialTokenIds, TokenizerKind} from '../tokenizer/tokenizer.js';

/**
 * What an exported model says about itself, so a runtime goes from text (or rows) to an answer
 * without the run folder: kept in model.json as `userDefinedMetadata.deepseek_kit.model`.
 * A model kind's `metadata(run)` (model-kind.ts ModelMetadata) plus the kit version; `export`
 * checks what it writes with parseExportMetadata, and the runtime reads it back with the same.
 */
export type ExportMetadata = TextClassifierMetadata | FeatureClassifierMetadata | CausalLMMetadata;

interface CommonMetadata {
  /** deepseek-kit version that wrote the export. */
  kitVersion: string;
  /** The model's one input: name, dtype, shape (null: any size). */
  input: {name: string; dtype: 'int32' | 'float32'; shape: (number | null)[]};
}

/** tokenizer.json of the export and the kind the kit trained (`byte`: raw UTF-8 bytes). */
export interface TokenizerMetadata {
  /** Path relative to model.json. */
  file: string;
  kind: TokenizerKind;
}

/** What cached decoding needs of a language model's layers (`block0..`, `pos`, `head`). */
export interface DecoderMetadata {
  numLayers: number;
  positions: 'rope' | 'learned';
  tiedHead: boolean;
}

export interface TextClassifierMetadata extends CommonMetadata {
  kind: 'text-classifier';
  task: 'classify';
  /** Logits over `labels`: softmax gives the probabilities. */
  output: 'class-logits';
  labels: string[];
  /** Tokens per text: longer texts keep their first maxLen, shorter ones are padded at the end. */
  maxLen: number;
  vocabSize: number;
  /** Special token ids by role; `pad` fills short texts (0 when absent). */
  specialTokens: SpecialTokenIds;
  tokenizer: TokenizerMetadata;
  textField?: string;
  labelField?: string;
}

export interface FeatureClassifierMetadata extends CommonMetadata {
  kind: 'feature-classifier';
  task: 'classify';
  output: 'class-logits';
  labels: string[];
  /** Input columns in order, standardized as (x − mean) / std before the model. */
  features: {columns: string[]; mean: number[]; std: number[]};
  labelField?: string;
}

export interface CausalLMMetadata extends CommonMetadata {
  kind: 'causal-lm';
  task: 'lm';
  /** Logits over the vocabulary at each position. */
  output: 'token-logits';
  /** The most tokens the model reads: prompt plus continuation. */
  contextLength: number;
  vocabSize: number;
  /** `eos` ends a generation; an empty prompt starts from `eos` (or `bos`). */
  specialTokens: SpecialTokenIds;
  tokenizer: TokenizerMetadata;
  decoder: DecoderMetadata;
  textField?: string;
}

const COMMON = ['kind', 'task', 'output', 'kitVersion', 'input'];
const KEYS: Record<ExportMetadata['kind'], string[]> = {
  'text-classifier': [
    ...COMMON,
    'labels',
    'maxLen',
    'vocabSize',
    'specialTokens',
    'tokenizer',
    'textField',
    'labelField',
  ],
  'feature-classifier': [...COMMON, 'labels', 'features', 'labelField'],
  'causal-lm': [
    ...COMMON,
    'contextLength',
    'vocabSize',
    'specialTokens',
    'tokenizer',
    'decoder',
    'textField',
  ],
};
const TASK = {'text-classifier': 'classify', 'feature-classifier': 'classify', 'causal-lm': 'lm'} as const;
const OUTPUT = {
  'text-classifier': 'class-logits',
  'feature-classifier': 'class-logits',
  'causal-lm': 'token-logits',
} as const;
const ROLES: readonly SpecialRole[] = ['pad', 'unk', 'bos', 'eos', 'cls', 'sep'];
const TOKENIZER_KINDS: readonly TokenizerKind[] = ['wordpiece', 'bpe', 'byte', 'hf'];

/**
 * Checks that `value` is export metadata the runtime can use and returns it typed; anything else is
 * a ModelError naming `source` and the first field that is wrong, missing or unknown.
 */
export function parseExportMetadata(value: unknown, source: string): ExportMetadata {
  const fail = (what: string): never => {
    throw new ModelError(
      `${source}: deepseek-kit metadata ${what}`,
      're-export the model with deepseek-kit, or pass the metadata to loadModel',
    );
  };
  const m = record(value) ?? fail('is missing (model.json has no userDefinedMetadata.deepseek_kit.model)');
  const kind = m.kind as ExportMetadata['kind'];
  if (!Object.hasOwn(KEYS, kind)) {
    fail(`"kind" must be one of ${Object.keys(KEYS).join(', ')}, got ${JSON.stringify(m.kind)}`);
  }
  const unknown = Object.keys(m).find((key) => !KEYS[kind].includes(key));
  if (unknown !== undefined) fail(`has an unknown field "${unknown}" for a ${kind}`);
  const check = (ok: boolean, field: string, want: string) => {
    if (!ok) fail(`"${field}" must be ${want}, got ${JSON.stringify(field.split('.').reduce(dig, m))}`);
  };
  check(m.task === TASK[kind], 'task', `"${TASK[kind]}"`);
  check(m.output === OUTPUT[kind], 'output', `"${OUTPUT[kind]}"`);
  check(typeof m.kitVersion === 'string', 'kitVersion', 'a version string');
  const input = record(m.input);
  check(typeof input?.name === 'string', 'input.name', 'a string');
  check(input?.dtype === 'int32' || input?.dtype === 'float32', 'input.dtype', '"int32" or "float32"');
  check(Array.isArray(input?.shape), 'input.shape', 'an array');
  const positive = (field: string) => check(isCount(m[field]), field, 'a whole number ≥ 1');

  if (kind !== 'causal-lm') {
    const labels = m.labels;
    check(
      Array.isArray(labels) && labels.length > 0 && labels.every((l) => typeof l === 'string'),
      'labels',
      'a non-empty list of strings',
    );
  }
  if (kind === 'feature-classifier') {
    const f = record(m.features);
    const columns = f?.columns;
    check(
      Array.isArray(columns) && columns.length > 0 && columns.every((c) => typeof c === 'string'),
      'features.columns',
      'a non-empty list of column names',
    );
    const d = (columns as string[]).length;
    const numbers = (x: unknown, positiveOnly: boolean) =>
      Array.isArray(x) && x.length === d && x.every((v) => Number.isFinite(v) && (!positiveOnly || v > 0));
    check(numbers(f?.mean, false), 'features.mean', `${d} numbers (one per column)`);
    check(numbers(f?.std, true), 'features.std', `${d} numbers above 0 (one per column)`);
    return m as unknown as FeatureClassifierMetadata;
  }
  positive('vocabSize');
  const special = record(m.specialTokens);
  check(special !== undefined, 'specialTokens', 'an object of role → id');
  for (const [role, id] of Object.entries(special!)) {
    check(ROLES.includes(role as SpecialRole), `specialTokens.${role}`, `a role among ${ROLES.join(', ')}`);
    check(
      Number.isInteger(id) && (id as number) >= 0 && (id as number) < (m.vocabSize as number),
      `specialTokens.${role}`,
      'an id below vocabSize',
    );
  }
  const tokenizer = record(m.tokenizer);
  check(
    typeof tokenizer?.file === 'string' && tokenizer.file !== '',
    'tokenizer.file',
    'a path relative to model.json',
  );
  check(
    TOKENIZER_KINDS.includes(tokenizer?.kind as TokenizerKind),
    'tokenizer.kind',
    TOKENIZER_KINDS.join(' | '),
  );
  if (kind === 'text-classifier') {
    positive('maxLen');
    return m as unknown as TextClassifierMetadata;
  }
  positive('contextLength');
  const decoder = record(m.decoder);
  check(isCount(decoder?.numLayers) || decoder?.numLayers === 0, 'decoder.numLayers', 'a whole number ≥ 0');
  check(
    decoder?.positions === 'rope' || decoder?.positions === 'learned',
    'decoder.positions',
    '"rope" or "learned"',
  );
  check(typeof decoder?.tiedHead === 'boolean', 'decoder.tiedHead', 'true or false');
  return m as unknown as CausalLMMetadata;
}

function record(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x)
    ? (x as Record<string, unknown>)
    : undefined;
}

function dig(x: unknown, key: string): unknown {
  return record(x)?.[key];
}

const isCount = (x: unknown) => Number.isInteger(x) && (x as number) >= 1;
