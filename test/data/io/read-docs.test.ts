import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import type {Doc} from '../../../src/data/doc.js';
import {type ReadDocsOptions, readDocs} from '../../../src/data/io/read-docs.js';
import {DatasetError} from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-read-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
async function all(options: ReadDocsOptions): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const doc of readDocs(options)) docs.push(doc);
  return docs;
}
async function failure(options: ReadDocsOptions): Promise<DatasetError> {
  try {
    await all(options);
  } catch (error) {
    if (error instanceof DatasetError) return error;
    throw error;
  }
  throw new Error('expected a DatasetError');
}

describe('readDocs', () => {
  it('streams the IMDB fixture: ids, labels and text as written', async () => {
    const docs = await all({input: 'fixtures/imdb/reviews.jsonl'});
    expect(docs).toHaveLength(2000);
    expect(docs[0]).toMatchObject({id: 'imdb-015958', label: 'neg', fields: {}});
    expect(docs.every((d) => d.text.length >= 65)).toBe(true);
    expect(new Set(docs.map((d) => d.id)).size).toBe(2000);
  });

  it('makes ids from file and line, keeps other fields in order, reads weights', async () => {
    const path = file(
      'rows.jsonl',
      '{"text":"a","src":"x","n":2}\n\n{"id":7,"text":"b","label":1,"weight":"0.5"}\n',
    );
    const docs = await all({input: path});
    expect(docs[0]).toEqual({id: 'rows.jsonl:1', text: 'a', fields: {src: 'x', n: 2}});
    // The id and label as strings (what steps compare), and as the row typed them (what is written).
    expect(docs[1]).toEqual({
      id: '7',
      text: 'b',
      label: '1',
      weight: 0.5,
      fields: {},
      typed: {id: 7, label: 1},
    });
  });

  it('reads stdin-like streams (stdin:<line> ids), CRLF and a byte-order mark', async () => {
    const input = Readable.from([
      Buffer.from('\ufeff{"text":"one"}\r\n{"te'),
      Buffer.from('xt":"two é"}\r\n'),
    ]);
    const docs = await all({input});
    expect(docs.map((d) => [d.id, d.text])).toEqual([
      ['stdin:1', 'one'],
      ['stdin:2', 'two é'],
    ]);
  });

  it('joins a line split over several chunks, CRLF split too, and a last line without a newline', async () => {
    const input = Readable.from(
      ['{"text":"ab', 'c', 'd"}\r', '\n{"text":"x"}\n{"te', 'xt":"end"}'].map((s) => Buffer.from(s)),
    );
    expect((await all({input})).map((d) => [d.id, d.text])).toEqual([
      ['stdin:1', 'abcd'],
      ['stdin:2', 'x'],
      ['stdin:3', 'end'],
    ]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('{"text":"日本語"}\n');
    const input = Readable.from([...bytes].map((b) => Buffer.from([b])));
    expect((await all({input}))[0]!.text).toBe('日本語');
  });

  it('uses the named fields', async () => {
    const path = file('named.jsonl', '{"review":"good","sentiment":"pos","uid":"u1","text":"other"}\n');
    const [doc] = await all({input: path, textField: 'review', labelField: 'sentiment', idField: 'uid'});
    expect(doc).toEqual({id: 'u1', text: 'good', label: 'pos', fields: {text: 'other'}});
  });

  it('a malformed JSONL line names the file, the line and the fix', async () => {
    const path = file('bad.jsonl', '{"text":"ok"}\n{"text": "cut off\n[1,2]\n{"body":"x"}\n{"text":3}\n');
    const error = await failure({input: path});
    expect(error.message).toMatch(/bad\.jsonl line 2: invalid JSON/);
    expect(error.message).toMatch(/one complete JSON object/);
    const skipped: string[] = [];
    const docs = await all({input: path, onError: 'skip', onSkip: (e) => skipped.push(e.message)});
    expect(docs.map((d) => d.text)).toEqual(['ok']);
    expect(skipped).toHaveLength(4);
    expect(skipped[1]).toMatch(/line 3: expected a JSON object, got an array/);
    expect(skipped[2]).toMatch(
      /line 4: no "text" field \(fields: body\) — name the text field with --text-field/,
    );
    expect(skipped[3]).toMatch(/line 5: "text" is a number/);
  });

  it('a missing file or a folder is a DatasetError', async () => {
    expect((await failure({input: join(dir, 'nope.jsonl')})).message).toMatch(/no such file/);
    expect((await failure({input: dir})).message).toMatch(/is a folder/);
  });

  it('reads CSV with quoted commas and newlines; line numbers count physical lines', async () => {
    const path = file('rows.csv', 'text,label,src\n"hi, there",pos,a\n"two\nlines",neg,b\nplain,neg,c\n');
    const docs = await all({input: path});
    expect(docs.map((d) => [d.id, d.text, d.label, d.fields.src])).toEqual([
      ['rows.csv:2', 'hi, there', 'pos', 'a'],
      ['rows.csv:4', 'two\nlines', 'neg', 'b'],
      ['rows.csv:5', 'plain', 'neg', 'c'],
    ]);
  });

  it('a CSV row with too many columns names the line; skip counts it and goes on', async () => {
    const path = file('cols.csv', 'text,label\nok,pos\nbad,neg,extra\nfine,neg\n');
    const error = await failure({input: path});
    expect(error.message).toBe(
      'cols.csv line 3: expected 2 columns, got 3 — quote fields that contain commas'.replace(
        'cols.csv',
        path,
      ),
    );
    const skipped: DatasetError[] = [];
    const docs = await all({input: path, onError: 'skip', onSkip: (e) => skipped.push(e)});
    expect(docs.map((d) => d.text)).toEqual(['ok', 'fine']);
    expect(skipped).toHaveLength(1);
  });

  it('a CSV without the text column fails at once, listing the columns', async () => {
    const path = file('nocol.csv', 'review,label\nx,pos\n');
    const error = await failure({input: path, onError: 'skip'});
    expect(error.message).toMatch(/line 1: no "text" column \(columns: review, label\)/);
  });

  it('reads TSV with bare quotes inside fields', async () => {
    const path = file('rows.tsv', 'text\tlabel\nthe "best" film\tpos\n');
    expect((await all({input: path}))[0]).toMatchObject({text: 'the "best" film', label: 'pos'});
  });

  it('reads plain text by line or by blank-line paragraphs', async () => {
    const path = file('book.txt', 'first line\n\nsecond para\ncontinues\n\n\nthird\n');
    expect((await all({input: path})).map((d) => [d.id, d.text])).toEqual([
      ['book.txt:1', 'first line'],
      ['book.txt:3', 'second para'],
      ['book.txt:4', 'continues'],
      ['book.txt:7', 'third'],
    ]);
    expect((await all({input: path, docSep: 'blank'})).map((d) => [d.id, d.text])).toEqual([
      ['book.txt:1', 'first line'],
      ['book.txt:3', 'second para\ncontinues'],
      ['book.txt:7', 'third'],
    ]);
  });

  it('Moby-Dick as paragraphs', async () => {
    const docs = await all({input: 'fixtures/text/moby-dick.txt', docSep: 'blank'});
    // 709 pieces from split(/\n\s*\n/), the last one empty (the file ends with a blank line).
    expect(docs.length).toBe(708);
    expect(docs[0]!.text).toMatch(/^CHAPTER 1\. Loomings/);
  });
});
