/**
 * The WordPiece model and decoder as Hugging Face tokenizers runs them (models/wordpiece,
 * decoders/wordpiece.rs): greedy longest-match-first pieces, the unknown token for a whole word that
 * does not split into known pieces or is longer than `maxInputCharsPerWord`.
 */
export class WordPieceModel {
  /** Longest vocabulary entry in UTF-16 units: no longer piece can match. */
  private readonly longest: number;
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly unkId: number,
    private readonly prefix: string,
    private readonly maxInputCharsPerWord: number,
  ) {
    let longest = 0;
    for (const token of vocab.keys()) longest = Math.max(longest, token.length);
    this.longest = longest;
  }

  tokenize(word: string): number[] {
    let ids = this.cache.get(word);
    if (!ids) {
      ids = this.pieces(word);
      if (this.cache.size < 50_000) this.cache.set(word, ids);
    }
    return ids;
  }

  private pieces(word: string): number[] {
    // Code point boundaries in UTF-16 units: pieces never cut a surrogate pair.
    const bounds = [0];
    for (const ch of word) bounds.push(bounds.at(-1)! + ch.length);
    if (bounds.length - 1 > this.maxInputCharsPerWord) return [this.unkId];
    const ids: number[] = [];
    for (let s = 0; s < bounds.length - 1; ) {
      let e = bounds.length - 1;
      let id: number | undefined;
      for (; e > s; e--) {
        if (bounds[e]! - bounds[s]! > this.longest) continue;
        const piece = word.slice(bounds[s], bounds[e]);
        id = this.vocab.get(s > 0 ? this.prefix + piece : piece);
        if (id !== undefined) break;
      }
      if (id === undefined) return [this.unkId];
      ids.push(id);
      s = e;
    }
    return ids;
  }
}

/** Tokens back to text: pieces joined, others after a space, then BERT's cleanup of each token. */
export function decodeWordPiece(tokens: readonly string[], prefix: string, cleanup: boolean): string {
  return tokens
    .map((token, i) => {
      let t = token;
      if (i > 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
      return cleanup ? cleanupTokenization(t) : t;
    })
    .join('');
}

/** Spaces a tokenizer put before punctuation and contractions, taken out (decoders/wordpiece.rs). */
function cleanupTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
