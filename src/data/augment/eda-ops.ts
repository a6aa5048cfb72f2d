import type {Rng} from '../rng.js';
import {insertToken, matchCase, removeToken, swapWords, type Token, wordToken} from './tokens.js';

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
  // Back to front: a multi-word synonym adds tokens after the one it replaces.
  for (const i of [...plan.keys()].sort((a, b) => b - a)) replaceWord(tokens, i, plan.get(i)!);
  return replaced;
}

/**
 * Random insertion: n times, insert a synonym of a random non-stop word at a random place. As in
 * the paper's code, up to 10 random words are tried for one that has synonyms; then any is taken.
 */
export function randomInsertion(tokens: Token[], n: number, ctx: EdaContext): number {
  let inserted = 0;
  for (let k = 0; k < n; k++) {
    const words = wordIndices(tokens);
    if (words.length === 0) break;
    let synonyms: readonly string[] = [];
    for (let attempt = 0; attempt < 10 && synonyms.length === 0; attempt++) {
      const source = tokens[ctx.rng.pick(words)];
      if (isCommonWord(source)) synonyms = ctx.synonyms(source.text.toLowerCase());
    }
    if (synonyms.length === 0) {
      // Unlucky draws (the paper's code gives up here): take any word that has synonyms.
      const sources = words.filter(
        (i) => isCommonWord(tokens[i]) && ctx.synonyms(tokens[i].text.toLowerCase()).length,
      );
      if (sources.length === 0) break;
      synonyms = ctx.synonyms(tokens[ctx.rng.pick(sources)].text.toLowerCase());
    }
    // Before any word, or after the last one (so before closing punctuation).
    const slot = ctx.rng.int(words.length + 1);
    let at = slot < words.length ? words[slot] : words[words.length - 1] + 1;
    for (const part of ctx.rng.pick(synonyms).split(' ')) insertToken(tokens, at++, wordToken(part));
    inserted++;
  }
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
  for (let d = doomed.length - 1; d >= 0; d--) removeToken(tokens, doomed[d]);
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

function replaceWord(tokens: Token[], i: number, synonym: string): void {
  const [first, ...rest] = matchCase(tokens[i].text, synonym).split(' ');
  tokens[i].text = first;
  rest.forEach((part, k) => {
    insertToken(tokens, i + 1 + k, wordToken(part));
  });
}
