import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import type {Doc} from '../../../src/data/doc.js';
import {endsQuoted} from '../../../src/data/io/csv-docs.js';
import {readDocs} from '../../../src/data/io/read-docs.js';
import type {DatasetError} from '../../../src/errors.js';

async function read(csv: string, onError: 'fail' | 'skip' = 'skip', format = 'csv') {
  const docs: Doc[] = [];
  const skipped: string[] = [];
  const input = Readable.from([Buffer.from(csv)]);
  for await (const doc of readDocs({
    input,
    format,
    onError,
    onSkip: (e: DatasetError) => skipped.push(e.message),
  })) {
    docs.push(doc);
  }
  return {ids: docs.map((d) => d.fields.n ?? d.id), texts: docs.map((d) => d.text), skipped};
}

describe('CSV rows after a stray quote', () => {
  it('skips only the line with the unbalanced quote and keeps every good row after it', async () => {
    const csv =
      'n,text,label\n1,good one,pos\n2,"unbalanced quote,neg\n3,good two,pos\n4,good three,neg\n5,"fine, quoted",pos\n6,last,neg\n';
    const r = await read(csv);
    expect(r.ids).toEqual(['1', '3', '4', '5', '6']);
    expect(r.texts).toContain('fine, quoted');
    expect(r.skipped).toEqual([expect.stringMatching(/^stdin line 3: a quote/)]);
    // Without --on-error skip the same line stops the run.
    await expect(read(csv, 'fail')).rejects.toThrow(/stdin line 3: a quote/);
    // A quote left open to the end of the input.
    const open = await read('n,text\n1,a\n2,"never closed\n3,b\n4,c\n');
    expect(open.ids).toEqual(['1', '3', '4']);
    expect(open.skipped).toEqual([expect.stringMatching(/^stdin line 3: a quoted field is never closed/)]);
  });

  it('a second stray quote that "closes" the first: both broken lines reported, the rows between kept', async () => {
    const csv = 'n,text\n1,"opens here\n2,plain\n3,say "hi there\n4,after\n';
    const r = await read(csv);
    expect(r.ids).toEqual(['2', '4']);
    expect(r.skipped).toEqual([expect.stringMatching(/line 2: /), expect.stringMatching(/line 4: /)]);
  });

  it('still reads quoted fields that hold line breaks, commas and doubled quotes', async () => {
    const csv = 'n,text\n1,"two\nlines, ""quoted"""\n2,next\n';
    const r = await read(csv, 'fail');
    expect(r.texts).toEqual(['two\nlines, "quoted"', 'next']);
    expect(r.ids).toEqual(['1', '2']);
  });

  it('a row with the wrong number of columns costs that row only', async () => {
    const r = await read('n,text\n1,a\n2,b,extra\n3,c\n');
    expect(r.ids).toEqual(['1', '3']);
    expect(r.skipped).toEqual([expect.stringMatching(/line 3: expected 2 columns, got 3/)]);
  });

  it('TSV keeps bare quotes inside fields', async () => {
    const r = await read('n\ttext\n1\tthe "best" film\n2\tsay "hi\n3\tok\n', 'fail', 'tsv');
    expect(r.texts).toEqual(['the "best" film', 'say "hi', 'ok']);
  });
});

describe('endsQuoted', () => {
  const comma = 44;
  it('follows csv-parse quote rules line by line', () => {
    expect(endsQuoted('a,b', comma, false, false)).toBe(false);
    expect(endsQuoted('a,"b', comma, false, false)).toBe(true);
    expect(endsQuoted('a,"b""', comma, false, false)).toBe(true);
    expect(endsQuoted('a,"b"""', comma, false, false)).toBe(false);
    expect(endsQuoted('still inside",c', comma, false, true)).toBe(false);
    expect(endsQuoted('a,b"c', comma, false, false)).toBe(false);
    expect(endsQuoted('"x"y,"z', comma, false, false)).toBe(false);
    expect(endsQuoted('"x"y,"z', comma, true, false)).toBe(true);
  });
});
