import {ConfigError} from '../../errors.js';

/** How text is normalized before exact dedup: two texts that normalize equal are duplicates. */
export interface NormalizeOptions {
  /** Unicode NFKC: full-width letters, ligatures and compatibility forms fold to their plain form. Default true. */
  nfkc?: boolean;
  /** Lower-case (Unicode, plus ß → ss and the like via upper-then-lower). Default true. */
  caseFold?: boolean;
  /** Runs of whitespace become one space; leading and trailing whitespace go. Default true. */
  collapseWhitespace?: boolean;
  /** Drop punctuation and symbols (`Great movie!!` = `great movie`). Default false: punctuation can carry meaning. */
  stripPunctuation?: boolean;
}

export const DEFAULT_NORMALIZE: Required<NormalizeOptions> = {
  nfkc: true,
  caseFold: true,
  collapseWhitespace: true,
  stripPunctuation: false,
};

const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/g;
// A text needs the slow upper-then-lower case fold only when it has letters outside ASCII.
const NON_ASCII = /[^\t-~]/;

/** The text as exact dedup (and `split`'s hashing) compares it. */
export function normalizeText(text: string, options: NormalizeOptions = {}): string {
  const o = {...DEFAULT_NORMALIZE, ...options};
  if (o.nfkc) text = text.normalize('NFKC');
  if (o.caseFold) {
    // toUpperCase().toLowerCase() gives full case folding for the special cases (ß → ss, ﬁ → fi)
    // that toLowerCase alone leaves unfolded.
    text = NON_ASCII.test(text) ? text.toUpperCase().toLowerCase() : text.toLowerCase();
  }
  if (o.stripPunctuation) text = text.replace(PUNCTUATION, ' ');
  if (o.collapseWhitespace) text = text.replace(WHITESPACE, ' ').trim();
  return text;
}

/** Checks a normalization config read from a file: unknown keys and non-booleans are errors. */
export function parseNormalizeOptions(value: unknown, where: string): NormalizeOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `${where}: expected a map of normalization switches`,
      `keys: ${snakeKeys().join(', ')}`,
    );
  }
  const out: NormalizeOptions = {};
  for (const [key, v] of Object.entries(value)) {
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof NormalizeOptions;
    if (!(camel in DEFAULT_NORMALIZE)) {
      throw new ConfigError(`${where}: unknown key "${key}"`, `valid keys: ${snakeKeys().join(', ')}`);
    }
    if (typeof v !== 'boolean')
      throw new ConfigError(`${where}.${key}: expected true or false, got ${JSON.stringify(v)}`);
    out[camel] = v;
  }
  return out;
}

function snakeKeys(): string[] {
  return Object.keys(DEFAULT_NORMALIZE).map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
}
