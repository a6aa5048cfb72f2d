import {ConfigError} from '../../errors.js';
import {hash64, hash64AsciiFolded, hash64CollapsedWhitespace} from './hash64.js';

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
// ASCII text is its own NFKC form and needs only the plain lower-case; anything else (or a control
// character, harmlessly) takes the full path.
const ASCII_ONLY = /^[\t-~]*$/;

/** The text as exact dedup (and `split`'s hashing) compares it. */
export function normalizeText(text: string, options: NormalizeOptions = {}): string {
  const o = {...DEFAULT_NORMALIZE, ...options};
  text = foldText(text, o);
  if (o.collapseWhitespace) text = text.replace(WHITESPACE, ' ').trim();
  return text;
}

/**
 * The 64-bit hash of `normalizeText(text, options)`; whitespace is collapsed inside the hash loop
 * rather than by a regex replace (the costliest step of normalizing).
 */
export function normalizedHash64(
  text: string,
  options: Required<NormalizeOptions>,
  out: Uint32Array = new Uint32Array(2),
): Uint32Array {
  // ASCII (nearly every row of English data): NFKC is the identity and case folding is A–Z → a–z,
  // so one loop folds, collapses and hashes without building a string.
  if (!options.stripPunctuation) {
    const fast = hash64AsciiFolded(text, options.caseFold, options.collapseWhitespace, out);
    if (fast) return fast;
  }
  const folded = foldText(text, options);
  return options.collapseWhitespace ? hash64CollapsedWhitespace(folded, out) : hash64(folded, out);
}

/** NFKC, case fold and punctuation: the normalization steps other than whitespace. */
function foldText(text: string, o: Required<NormalizeOptions>): string {
  const ascii = ASCII_ONLY.test(text);
  if (o.nfkc && !ascii) text = text.normalize('NFKC');
  if (o.caseFold) {
    // toUpperCase().toLowerCase() gives full case folding for the special cases (ß → ss, ﬁ → fi)
    // that toLowerCase alone leaves unfolded.
    text = ascii ? text.toLowerCase() : text.toUpperCase().toLowerCase();
  }
  if (o.stripPunctuation) text = text.replace(PUNCTUATION, ' ');
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
