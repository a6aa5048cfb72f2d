import {StringDecoder} from 'node:string_decoder';
import {DatasetError} from '../../errors.js';

/** One line of a text stream, numbered from 1, without its line ending. */
export interface Line {
  text: string;
  line: number;
}

/** Longest line accepted: a line this long is a sign of a binary file or a missing line break. */
export const MAX_LINE_CHARS = 256 * 1024 * 1024;

/**
 * Splits a byte stream into lines (LF or CRLF), decoding UTF-8 across chunk boundaries and dropping
 * a leading byte-order mark. Memory holds one chunk plus the unfinished line. `onBytes` is told the
 * byte count after each chunk (progress).
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string>,
  source: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let bytes = 0;
  let first = true;
  for await (const chunk of input) {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield {text: text.slice(start, end), line: ++line};
      start = nl + 1;
    }
    rest = start === 0 ? text : text.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      throw new DatasetError(
        `${source} line ${line + 1}: line longer than ${MAX_LINE_CHARS} characters`,
        'is this a binary file, or a file without line breaks? Check --format',
      );
    }
    onBytes?.(bytes);
  }
  rest += decoder.end();
  if (rest.length > 0) {
    const end = rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length;
    yield {text: rest.slice(0, end), line: ++line};
  }
}
