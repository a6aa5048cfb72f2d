import {nativeTokenizers} from './hf-tokenizer.js';

/**
 * BPE training past the native trainer's cap. `tokenizers`' default trainer stops at 30,000 tokens
 * and cannot be told otherwise from JavaScript; BPE is greedy, so training can pick up where it
 * stopped: apply its merges to every word of the text, then keep merging the most frequent adjacent
 * pair (Sennrich et al. 2016) until the vocabulary is full.
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

/** A word's symbols after applying `merges` by rank, lowest first (how BPE encodes). */
export function applyMerges(word: string, ranks: ReadonlyMap<string, number>): string[] {
  let symbols = [...word];
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
        out.push(a + b);
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
  // Ids as the native trainer numbers symbols (characters by code point, then merged tokens in
  // merge order): its heap breaks count ties by smaller ids, and so does ours.
  const chars = new Set<string>();
  for (const word of wordCounts.keys()) for (const ch of word) chars.add(ch);
  for (const ch of [...chars].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!)) intern(ch);
  for (const [a, b] of merges) intern(a + b);
  const known = new Set(vocabulary);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(applyMerges(word, ranks).map(intern));
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
    const token = symbols[a]! + symbols[b]!;
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
