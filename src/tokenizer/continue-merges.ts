import {nativeTokenizers} from './hf-tokenizer.js';

/**
 * BPE merge learning (Sennrich et al. 2016): merge the most frequent adjacent pair of symbols, again
 * and again, until the vocabulary is full. It can start from merges already learnt (apply them to
 * every word first), which is how byte-level BPE goes past the native trainer's 30,000-token cap
 * (it cannot be told otherwise from JavaScript); and with a continuing-subword prefix (`##`) it
 * learns WordPiece vocabularies the way Hugging Face's WordPiece trainer does, deterministically
 * (the native one numbers `##` symbols in hash order, so its count ties, and results, vary by run).
 */

/** Pre-tokenized words of the text (byte-level characters, as the ByteLevel pre-tokenizer splits them), with counts. */
export function byteLevelWordCounts(texts: Iterable<string>): Map<string, number> {
  const pre = nativeTokenizers().byteLevelPreTokenizer(false, true);
  const counts = new Map<string, number>();
  for (const text of texts) {
    // The native trainer reads files line by line, newline included.
    for (const line of text.split(/(?<=\n)/)) {
      if (line.length === 0) continue;
      for (const [piece] of pre.preTokenizeString(line)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  return counts;
}

/** A word as initial symbols: its characters, all but the first with the continuing prefix if any. */
export function splitWord(word: string, prefix = ''): string[] {
  return [...word].map((ch, i) => (i === 0 ? ch : prefix + ch));
}

/** The token two symbols merge into: the right one loses its continuing prefix. */
export function joinSymbols(a: string, b: string, prefix = ''): string {
  return a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
}

/** A word's symbols after applying `merges` by rank, lowest first (how BPE encodes). */
export function applyMerges(word: string, ranks: ReadonlyMap<string, number>, prefix = ''): string[] {
  let symbols = splitWord(word, prefix);
  while (symbols.length > 1) {
    let best = Number.POSITIVE_INFINITY;
    let at = -1;
    for (let i = 0; i < symbols.length - 1; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < best) {
        best = rank;
        at = i;
      }
    }
    if (at < 0) break;
    const [a, b] = [symbols[at]!, symbols[at + 1]!];
    const out: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
        out.push(joinSymbols(a, b, prefix));
        i++;
      } else {
        out.push(symbols[i]!);
      }
    }
    symbols = out;
  }
  return symbols;
}

/** Max-heap of [count, pair key]; ties go to the smaller key, so runs are deterministic. */
class PairHeap {
  private readonly items: Array<[number, number]> = [];

  get size(): number {
    return this.items.length;
  }

  private above(a: [number, number], b: [number, number]): boolean {
    return a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  push(item: [number, number]): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): [number, number] | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < h.length && this.above(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.above(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const ID_BITS = 2 ** 21;

/**
 * The next merges after `merges`, until `newTokens` tokens not in `vocabulary` have been made or no
 * pair is left. Returns the new merges only.
 */
export function continueMerges(
  wordCounts: ReadonlyMap<string, number>,
  merges: ReadonlyArray<readonly [string, string]>,
  vocabulary: Iterable<string>,
  newTokens: number,
  prefix = '',
): Array<[string, string]> {
  const ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const symbols: string[] = [];
  const idOf = new Map<string, number>();
  const intern = (s: string) => {
    let id = idOf.get(s);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(s);
      idOf.set(s, id);
    }
    return id;
  };
  // Ids as the native BPE trainer numbers symbols (characters by code point, then merged tokens in
  // merge order): its heap breaks count ties by smaller ids, and so does ours.
  for (const symbol of initialSymbols(wordCounts.keys(), prefix)) intern(symbol);
  for (const [a, b] of merges) intern(joinSymbols(a, b, prefix));
  const known = new Set(vocabulary);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(applyMerges(word, ranks, prefix).map(intern));
    counts.push(count);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const s = words[w]!;
    for (let i = 0; i < s.length - 1; i++) {
      const key = s[i]! * ID_BITS + s[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * counts[w]!);
      if (sign > 0) {
        const set = where.get(key);
        if (set) set.add(w);
        else where.set(key, new Set([w]));
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const heap = new PairHeap();
  for (const [key, count] of pairCount) heap.push([count, key]);

  const out: Array<[string, string]> = [];
  let made = 0;
  while (made < newTokens && heap.size > 0) {
    const [count, key] = heap.pop()!;
    const current = pairCount.get(key) ?? 0;
    if (current !== count) {
      if (current > 0) heap.push([current, key]);
      continue;
    }
    const [a, b] = [Math.floor(key / ID_BITS), key % ID_BITS];
    const token = joinSymbols(symbols[a]!, symbols[b]!, prefix);
    const c = intern(token);
    out.push([symbols[a]!, symbols[b]!]);
    if (!known.has(token)) {
      known.add(token);
      made += 1;
    }
    const touched = new Set<number>();
    for (const w of where.get(key) ?? []) {
      const s = words[w]!;
      let hit = false;
      for (let i = 0; i < s.length - 1; i++) if (s[i] === a && s[i + 1] === b) hit = true;
      if (!hit) continue;
      addPairs(w, -1);
      const merged: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i < s.length - 1 && s[i] === a && s[i + 1] === b) {
          merged.push(c);
          i++;
        } else {
          merged.push(s[i]!);
        }
      }
      words[w] = merged;
      addPairs(w, 1);
      for (let i = 0; i < merged.length - 1; i++) touched.add(merged[i]! * ID_BITS + merged[i + 1]!);
    }
    pairCount.delete(key);
    for (const k of touched) {
      const n = pairCount.get(k) ?? 0;
      if (n > 0) heap.push([n, k]);
    }
  }
  return out;
}

/** The symbols words start as, sorted: characters by code point, then prefixed characters likewise. */
export function initialSymbols(words: Iterable<string>, prefix = ''): string[] {
  const first = new Set<string>();
  const rest = new Set<string>();
  for (const word of words)
    for (const [i, symbol] of splitWord(word, prefix).entries()) (i === 0 ? first : rest).add(symbol);
  // UTF-16 order, which is code-point order for the byte-level alphabet (all below U+0144).
  const ordered = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  if (!prefix) return [...new Set([...first, ...rest])].sort(ordered);
  return [...[...first].sort(ordered), ...[...rest].sort(ordered)];
}
