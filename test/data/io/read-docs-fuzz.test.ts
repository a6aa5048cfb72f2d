import {Readable} from 'node:stream';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {readDocs} from '../../../src/data/io/read-docs.js';
import {UserError} from '../../../src/errors.js';

// Issue 17: property-based fuzzing of the JSONL and CSV readers, with a fixed seed and a time bound.
// Whatever the bytes, a reader yields rows or fails with a named input error (a UserError whose
// message names the source and a line): never an internal error (exit 2). Messages quote input
// with its control characters escaped.
const RUNS = {seed: 17, numRuns: 400, interruptAfterTimeLimit: 4000};
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Reads `bytes` as `format` from a stream; returns the rows and skipped messages, or the error. */
async function read(bytes: Uint8Array, format: string, onError: 'fail' | 'skip') {
  const skipped: string[] = [];
  const input = Readable.from([Buffer.from(bytes)]);
  let rows = 0;
  try {
    for await (const doc of readDocs({input, format, onError, onSkip: (e) => skipped.push(e.message)})) {
      expect(typeof doc.text).toBe('string');
      rows++;
    }
    return {rows, skipped, error: undefined};
  } catch (error) {
    return {rows, skipped, error};
  }
}

function expectNamedInputError(error: unknown): void {
  if (error === undefined) return;
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toMatch(/^stdin line \d+: /);
  expect((error as Error).message).not.toMatch(CONTROL);
}

/** Pieces that JSON and CSV parsers trip on, mixed with plain text and bytes that are not UTF-8. */
const piece = fc.oneof(
  fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '\n', '\r\n', '\t', ' ', 'null', 'true', '1e999'),
  fc.constantFrom('"text"', '"label"', '"id"', '"weight"', '"__proto__"', '\u001b]0;x\u0007', '\ufeff', 'é'),
  fc.string({maxLength: 8}),
);
const bytes = fc.oneof(
  fc.array(piece, {maxLength: 40}).map((parts) => new TextEncoder().encode(parts.join(''))),
  fc.uint8Array({maxLength: 200}),
);

/** A JSONL row that is valid, or one broken in a small way. */
const jsonValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
  fc.object(),
);
const jsonlLine = fc.oneof(
  fc
    .record({text: fc.string(), label: jsonValue, id: jsonValue, weight: jsonValue}, {requiredKeys: []})
    .map((r) => JSON.stringify(r)),
  fc.tuple(fc.record({text: fc.string()}), fc.nat(), fc.string({maxLength: 3})).map(([r, at, junk]) => {
    const line = JSON.stringify(r);
    const cut = at % (line.length + 1);
    return line.slice(0, cut) + junk + line.slice(cut + 1);
  }),
  jsonValue.map((v) => JSON.stringify(v) ?? ''),
);

describe('the JSONL reader under fuzzing', () => {
  it('arbitrary bytes: rows, or a named input error', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, async (b) => {
        const fail = await read(b, 'jsonl', 'fail');
        expectNamedInputError(fail.error);
        const skip = await read(b, 'jsonl', 'skip');
        expectNamedInputError(skip.error);
        for (const message of skip.skipped) expect(message).toMatch(/^stdin line \d+: /);
      }),
      RUNS,
    );
  });

  it('valid and slightly broken rows: skip mode keeps every valid row and counts the rest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jsonlLine, {maxLength: 30}), async (lines) => {
        const r = await read(new TextEncoder().encode(lines.join('\n')), 'jsonl', 'skip');
        expect(r.error).toBeUndefined();
        const nonBlank = lines.filter((l) => l.trim() !== '').length;
        expect(r.rows + r.skipped.length).toBe(nonBlank);
      }),
      RUNS,
    );
  });
});

describe('the CSV and TSV readers under fuzzing', () => {
  const csvChar = fc.constantFrom('"', ',', '\t', '\n', '\r', ' ', 'a', 'b', 'é', '\u0000', '""');
  const csvText = fc
    .tuple(fc.constantFrom('text,label\n', 'id,text\n', 'body\n', ''), fc.array(csvChar, {maxLength: 80}))
    .map(([header, chars]) => new TextEncoder().encode(header + chars.join('')));

  for (const format of ['csv', 'tsv']) {
    it(`${format}: arbitrary input gives rows or a named input error`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(csvText, bytes), async (b) => {
          const fail = await read(b, format, 'fail');
          expectNamedInputError(fail.error);
          const skip = await read(b, format, 'skip');
          expectNamedInputError(skip.error);
          for (const message of skip.skipped) expect(message).toMatch(/^stdin line \d+: /);
        }),
        RUNS,
      );
    });
  }

  it('csv: stray quotes cost their own lines only — every good row is read, in order', async () => {
    const good = fc.stringMatching(/^[a-z ]{1,12}$/);
    const stray = fc.tuple(good, good).map(([a, b]) => ({stray: `${a},"${b}`}));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(good, good, stray), {minLength: 1, maxLength: 30}), async (rows) => {
        const lines = rows.map((r, i) => (typeof r === 'string' ? `${i},${r}` : r.stray));
        const csv = `n,text\n${lines.join('\n')}\n`;
        const docs: string[] = [];
        const skipped: string[] = [];
        const input = Readable.from([Buffer.from(csv)]);
        for await (const doc of readDocs({
          input,
          format: 'csv',
          onError: 'skip',
          onSkip: (e) => skipped.push(e.message),
        })) {
          docs.push(String(doc.fields.n));
        }
        const goodRows = rows.flatMap((r, i) => (typeof r === 'string' ? [String(i)] : []));
        expect(docs).toEqual(goodRows);
        expect(skipped).toHaveLength(rows.length - goodRows.length);
      }),
      RUNS,
    );
  });
});
