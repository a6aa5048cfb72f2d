/**
 * Text as the augment ops see it: words and the pieces between them, with the exact whitespace
 * before each piece, so `detokenize(tokenize(t)) === t` and an edited text keeps its punctuation,
 * line breaks and markup.
 */
export interface Token {
  text: string;
  /** A word the ops may replace, move or delete (else punctuation, a tag, a URL...). */
  word: boolean;
  /** The whitespace that preceded this token in the source text. */
  space: string;
  /** Capitalised only because it opened a sentence (`The`), so it is lower-cased if moved. */
  sentenceCap: boolean;
  /** Opened a sentence in lower case (`... and then`): not capitalised there by `detokenize`. */
  lowerOpener: boolean;
  /** Capitalised inside a sentence: most likely a name (`Ice Cube`), which EDA leaves alone. */
  name: boolean;
}

function makeToken(
  text: string,
  word: boolean,
  space: string,
  sentenceCap = false,
  lowerOpener = false,
  name = false,
): Token {
  return {text, word, space, sentenceCap, lowerOpener, name};
}

/** A copy to edit: every op works on its own copy of the row's tokens. */
export function cloneTokens(tokens: readonly Token[]): Token[] {
  return tokens.map((t) => makeToken(t.text, t.word, t.space, t.sentenceCap, t.lowerOpener, t.name));
}

const CJK = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}';
/**
 * One token per match, after its leading whitespace: an ellipsis (which ends no sentence), a markup
 * tag, URL or e-mail address (kept whole, never a word); one CJK character (CJK text has no spaces between words, so each
 * character is a unit); a word of letters, marks and digits with inner apostrophes or hyphens
 * (`don't`, `well-known`); else one other character. The URL and e-mail parts have length bounds
 * (2,000; 64 and 253, RFC 5321's) so that no match attempt scans far: tokenizing stays linear even
 * in a megabyte without spaces.
 */
const TOKEN = new RegExp(
  [
    '(\\s*)(?:',
    '(\\.{2,}|<\\/?[A-Za-z][^<>]{0,200}>|(?:https?:\\/\\/|www\\.)[^\\s<>"]{0,2000}[^\\s<>".,;:!?\\)\\x27’”]|[\\w.+\\-]{1,64}@[\\w\\-]{1,253}\\.[\\w.\\-]+)',
    `|([${CJK}])`,
    `|((?:[[\\p{L}\\p{M}\\p{N}]--[${CJK}]])+(?:['’\\-](?:[[\\p{L}\\p{M}\\p{N}]--[${CJK}]])+)*)`,
    '|(\\S))',
  ].join(''),
  'gv',
);

const SENTENCE_END = /^[.!?。！？]$/;
const LOWER_START = /^\p{Ll}/u;
const CAPITALISED = /^\p{Lu}\p{Ll}/u;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let atStart = true;
  let end = 0;
  // Trailing whitespace is left out of the match: the engine would retry it from every position.
  const body = text.trimEnd();
  for (const m of body.matchAll(TOKEN)) {
    const [, space, opaque, cjk, word, other] = m;
    end = m.index + m[0].length;
    if (word !== undefined) {
      const capital = CAPITALISED.test(word);
      tokens.push(
        makeToken(
          word,
          true,
          space,
          atStart && isTitleCase(word),
          atStart && LOWER_START.test(word),
          !atStart && capital,
        ),
      );
      atStart = false;
    } else if (cjk !== undefined) {
      tokens.push(makeToken(cjk, true, space));
      atStart = false;
    } else {
      const piece = opaque ?? other;
      tokens.push(makeToken(piece, false, space));
      if (SENTENCE_END.test(piece)) atStart = true;
    }
  }
  // Trailing whitespace rides on an empty, non-word token so that it survives edits.
  if (end < text.length) tokens.push(makeToken('', false, text.slice(end)));
  return tokens;
}

/**
 * Joins tokens back into text. Where the text used sentence capitals, a word that now opens a
 * sentence gets one and a word moved away from a sentence start loses it.
 */
export function detokenize(tokens: readonly Token[]): string {
  const recase = tokens.some((t) => t.sentenceCap);
  let atStart = true;
  let out = '';
  for (const t of tokens) {
    let text = t.text;
    if (t.word) {
      if (recase && atStart && !t.lowerOpener && LOWER_START.test(text))
        text = text[0].toUpperCase() + text.slice(1);
      else if (t.sentenceCap && !atStart) text = text[0].toLowerCase() + text.slice(1);
      atStart = false;
    } else if (SENTENCE_END.test(text)) {
      atStart = true;
    }
    out += t.space + text;
  }
  return out;
}

/** A word token for inserted text (lower case, one space before). */
export function wordToken(text: string): Token {
  return makeToken(text, true, ' ');
}

/** Swaps two words, with what they know of their case; their places keep their spacing. */
export function swapWords(a: Token, b: Token): void {
  const {text, sentenceCap, lowerOpener, name} = a;
  a.text = b.text;
  a.sentenceCap = b.sentenceCap;
  a.lowerOpener = b.lowerOpener;
  a.name = b.name;
  b.text = text;
  b.sentenceCap = sentenceCap;
  b.lowerOpener = lowerOpener;
  b.name = name;
}

/**
 * Inserts `before.get(i)` in front of tokens[i] for every planned i (`tokens.length`: at the end),
 * in one pass: an op makes all its insertions with one rebuild, linear in the text, where one
 * splice per word is quadratic. Inserted in front of the first token, the first new token takes
 * over the text's leading space.
 */
export function insertTokens(tokens: Token[], before: ReadonlyMap<number, readonly Token[]>): void {
  if (before.size === 0) return;
  const out: Token[] = [];
  for (let i = 0; i <= tokens.length; i++) {
    const added = before.get(i);
    if (added && added.length > 0) {
      if (i === 0 && tokens.length > 0) [added[0].space, tokens[0].space] = [tokens[0].space, added[0].space];
      for (const t of added) out.push(t);
    }
    if (i < tokens.length) out.push(tokens[i]);
  }
  replaceAll(tokens, out);
}

/**
 * Removes the tokens at `drop` in one pass, keeping the text around them readable: `(very good)`
 * → `(good)`, and a line break before a removed word stays. The token after a run of removed ones
 * takes the space of the first of them that had none or a line break.
 */
export function removeTokens(tokens: Token[], drop: ReadonlySet<number>): void {
  if (drop.size === 0) return;
  const out: Token[] = [];
  let carried: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (drop.has(i)) {
      if (carried === undefined && (t.space === '' || t.space.includes('\n'))) carried = t.space;
      continue;
    }
    if (carried !== undefined) t.space = carried;
    carried = undefined;
    out.push(t);
  }
  replaceAll(tokens, out);
}

/** `tokens` now holds `out` (the ops edit their array in place). */
function replaceAll(tokens: Token[], out: readonly Token[]): void {
  tokens.length = 0;
  for (const t of out) tokens.push(t);
}

/** `replacement` cased like `original`: `Movie` → `Film`, `MOVIE` → `FILM`, `movie` → `film`. */
export function matchCase(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) {
    return replacement.toUpperCase();
  }
  if (/^\p{Lu}/u.test(original)) return replacement[0].toUpperCase() + replacement.slice(1);
  return replacement;
}

/** `The`, `Movie` — but not `I`, `I'm`, `NASA` or `iPhone`. */
function isTitleCase(word: string): boolean {
  if (word === 'I' || word.startsWith("I'") || word.startsWith('I’')) return false;
  return /^\p{Lu}[\p{Ll}'’-]*$/u.test(word);
}
