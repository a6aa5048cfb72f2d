/** Rows of a sparse matrix: row i's columns are `cols[rowStart[i]..rowStart[i+1])`, with `values` alongside. */
export interface SparseRows {
  rowStart: Int32Array;
  cols: Int32Array;
  values: Float64Array;
  rows: number;
  columns: number;
}

/**
 * Words as scikit-learn's TfidfVectorizer finds them by default (`(?u)\b\w\w+\b`, lowercased): runs of
 * two or more letters, digits, marks or underscores.
 */
export function sklearnWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}\p{M}_]+/gu) ?? []).filter((w) => [...w].length >= 2);
}

/**
 * TF-IDF features with scikit-learn's defaults: the vocabulary of the fitted texts (every word), raw
 * counts times a smoothed idf, ln((1 + n) / (1 + df)) + 1, each row scaled to unit L2 norm. Words
 * the fitted texts never had are ignored.
 */
export class TfidfVectorizer {
  private readonly vocabulary = new Map<string, number>();
  private idf = new Float64Array(0);

  get features(): number {
    return this.vocabulary.size;
  }

  fit(texts: readonly string[]): this {
    const df: number[] = [];
    for (const text of texts) {
      for (const word of new Set(sklearnWords(text))) {
        let id = this.vocabulary.get(word);
        if (id === undefined) {
          id = this.vocabulary.size;
          this.vocabulary.set(word, id);
          df.push(0);
        }
        df[id]! += 1;
      }
    }
    const n = texts.length;
    this.idf = Float64Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
    return this;
  }

  transform(texts: readonly string[]): SparseRows {
    const rowStart = new Int32Array(texts.length + 1);
    const cols: number[] = [];
    const values: number[] = [];
    for (const [i, text] of texts.entries()) {
      const counts = new Map<number, number>();
      for (const word of sklearnWords(text)) {
        const id = this.vocabulary.get(word);
        if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const ids = [...counts.keys()].sort((a, b) => a - b);
      const weights = ids.map((id) => counts.get(id)! * this.idf[id]!);
      const norm = Math.sqrt(weights.reduce((a, w) => a + w * w, 0)) || 1;
      for (const [j, id] of ids.entries()) {
        cols.push(id);
        values.push(weights[j]! / norm);
      }
      rowStart[i + 1] = cols.length;
    }
    return {
      rowStart,
      cols: Int32Array.from(cols),
      values: Float64Array.from(values),
      rows: texts.length,
      columns: this.features,
    };
  }
}
