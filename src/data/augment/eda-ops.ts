import type {Rng} from '../rng.js';
import {insertTokens, matchCase, removeTokens, swapWords, type Token, wordToken} from './tokens.js';

/**
 * The four EDA operations (Wei & Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting
 * Performance on Text Classification Tasks", §2.1). Each edits `tokens` in place and returns how
 * many edits it made (0: the text could not be changed this way). `n` is the paper's
 * n = max(1, ⌊α·l⌋) for a text of l words; deletion takes the probability p = α instead.
 */
export interface EdaContext {
  rng: Rng;
  /** Synonyms of a lower-case word in its own form; none for stop words. */
  synonyms: (lowerCaseWord: string) => readonly string[];
}

/**
 * Synonym replacement: pick up to n distinct non-stop words that have WordNet synonyms, in random
 * order, and replace every occurrence of each with one random synonym.
 */
export function synonymReplacement(tokens: Token[], n: number, ctx: EdaContext): number {
  const byWord = new Map<string, number[]>();
  tokens.forEach((t, i) => {
    if (!isCommonWord(t)) return;
    const key = t.text.toLowerCase();
    byWord.get(key)?.push(i) ?? byWord.set(key, [i]);
  });
  const plan = new Map<number, string>(); // token index → its synonym
  let replaced = 0;
  for (const word of ctx.rng.shuffled([...byWord.keys()])) {
    if (replaced >= n) break;
    const synonyms = ctx.synonyms(word);
    if (synonyms.length === 0) continue;
    const synonym = ctx.rng.pick(synonyms);
    for (const i of byWord.get(word)!) plan.set(i, synonym);
    replaced++;
  }
  // A multi-word synonym adds words after the one it replaces: all added in one pass.
  const added = new Map<number, Token[]>();
  for (const [i, synonym] of plan) {
    const [first, ...rest] = matchCase(tokens[i].text, synonym).split(' ');
    tokens[i].text = first;
    if (rest.length > 0) added.set(i + 1, rest.map(wordToken));
  }
  insertTokens(tokens, added);
  return replaced;
}

/**
 * Random insertion: n times, insert a synonym of a random non-stop word at a random place. As in
 * the paper's code, up to 10 random words are tried for one that has synonyms; then any is taken.
 * Sources and places are drawn among the text's own words, and the insertions made in one pass.
 */
export function randomInsertion(tokens: Token[], n: number, ctx: EdaContext): number {
  const words = wordIndices(tokens);
  if (words.length === 0) return 0;
  const synonymsAt = (i: number) =>
    isCommonWord(tokens[i]) ? ctx.synonyms(tokens[i].text.toLowerCase()) : [];
  let sources: number[] | undefined;
  const added = new Map<number, Token[]>();
  let inserted = 0;
  for (let k = 0; k < n; k++) {
    let synonyms: readonly string[] = [];
    for (let attempt = 0; attempt < 10 && synonyms.length === 0; attempt++)
      synonyms = synonymsAt(ctx.rng.pick(words));
    if (synonyms.length === 0) {
      // Unlucky draws (the paper's code gives up here): take any word that has synonyms.
      sources ??= words.filter((i) => synonymsAt(i).length > 0);
      if (sources.length === 0) break;
      synonyms = synonymsAt(ctx.rng.pick(sources));
    }
    // Before any word, or after the last one (so before closing punctuation).
    const slot = ctx.rng.int(words.length + 1);
    const at = slot < words.length ? words[slot] : words[words.length - 1] + 1;
    const list = added.get(at) ?? [];
    for (const part of ctx.rng.pick(synonyms).split(' ')) list.push(wordToken(part));
    added.set(at, list);
    inserted++;
  }
  insertTokens(tokens, added);
  return inserted;
}

/** Random swap: n times, swap two random words (their places keep their spacing). */
export function randomSwap(tokens: Token[], n: number, ctx: EdaContext): number {
  const words = wordIndices(tokens);
  if (words.length < 2) return 0;
  let swapped = 0;
  for (let k = 0; k < n; k++) {
    const a = ctx.rng.pick(words);
    // Up to three tries for a second, different word, as in the paper's code.
    for (let attempt = 0; attempt < 3; attempt++) {
      const b = ctx.rng.pick(words);
      if (tokens[a].text.toLowerCase() === tokens[b].text.toLowerCase()) continue;
      swapWords(tokens[a], tokens[b]);
      swapped++;
      break;
    }
  }
  return swapped;
}

/**
 * Random deletion: drop each word with probability p, but at least one (a copy equal to its
 * source is no augmentation) and never all of them; a one-word text is left alone.
 */
export function randomDeletion(tokens: Token[], p: number, ctx: EdaContext): number {
  const words = wordIndices(tokens);
  if (words.length < 2) return 0;
  let doomed = words.filter(() => ctx.rng.chance(p));
  if (doomed.length === 0) doomed = [ctx.rng.pick(words)];
  if (doomed.length === words.length) {
    const keep = ctx.rng.pick(words);
    doomed = doomed.filter((i) => i !== keep);
  }
  removeTokens(tokens, new Set(doomed));
  return doomed.length;
}

/**
 * A word that may be replaced or used as an insertion source: not a capitalised word inside a
 * sentence, which is most likely a name (`Ice Cube` must not become `Shabu Third power`).
 */
export function isCommonWord(t: Token): boolean {
  return t.word && !t.name;
}

export function wordIndices(tokens: readonly Token[]): number[] {
  const out: number[] = [];
  tokens.forEach((t, i) => {
    if (t.word) out.push(i);
  });
  return out;
}
