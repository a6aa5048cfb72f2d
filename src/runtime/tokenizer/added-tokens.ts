import type {AddedTokenJson} from '../../tokenizer/tokenizer-json.js';

/** A piece of text, or the id of an added token found in it. */
export type Piece = string | number;

/**
 * Splits text on the added tokens (`[CLS]`, `<|endoftext|>`…) the way Hugging Face's
 * AddedVocabulary does: leftmost match, the longest where several start at one place; the text
 * between matches goes on to the normalizer and the model.
 */
export class AddedTokenSplitter {
  private readonly pattern?: RegExp;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(tokens: readonly AddedTokenJson[]) {
    this.ids = new Map(tokens.map((t) => [t.content, t.id]));
    const contents = tokens.map((t) => t.content).filter((c) => c !== '');
    // Longest first: a regex alternation takes the first alternative that matches at a position.
    contents.sort((a, b) => b.length - a.length);
    if (contents.length > 0) this.pattern = new RegExp(contents.map(escapeRegExp).join('|'), 'gu');
  }

  split(text: string): Piece[] {
    if (!this.pattern) return text === '' ? [] : [text];
    const out: Piece[] = [];
    let at = 0;
    for (const match of text.matchAll(this.pattern)) {
      if (match.index > at) out.push(text.slice(at, match.index));
      out.push(this.ids.get(match[0])!);
      at = match.index + match[0].length;
    }
    if (at < text.length) out.push(text.slice(at));
    return out;
  }
}

/** `s` as a literal in a `u`-flag pattern (where only syntax characters may be escaped, not `-`). */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
