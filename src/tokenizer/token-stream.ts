import type {Tokenizer} from './tokenizer.js';

/**
 * Text from token ids as a model generates them. Each `push` returns only the new text. A token can
 * end inside a UTF-8 character (byte-level BPE splits emoji and CJK across tokens), and a decoder can
 * change how the previous token reads (WordPiece joins `##` pieces, drops the space before
 * punctuation); so each step decodes a short window of recent tokens twice, with and without the new
 * ones, and emits the difference once it no longer ends in a cut character — incremental
 * detokenization as text-generation servers do it, at a cost that does not grow with the output.
 */
export class TokenStream {
  private readonly ids: number[] = [];
  /** Start of the window decoded for context. */
  private prefixOffset = 0;
  /** Tokens before this were emitted. */
  private readOffset = 0;

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Adds one generated id; returns the text it completes ('' while a character is still cut). */
  async push(id: number): Promise<string> {
    this.ids.push(id);
    const before = await this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = await this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    if (after.length <= before.length || after.endsWith('\ufffd') || !after.startsWith(before)) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return after.slice(before.length);
  }

  /** Whatever is still held back (a character cut at the end comes out as U+FFFD). */
  async flush(): Promise<string> {
    const before = await this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = await this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    return after.startsWith(before) ? after.slice(before.length) : after;
  }
}
