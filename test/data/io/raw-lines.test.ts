import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Doc} from '../../../src/data/doc.js';
import {readDocs} from '../../../src/data/io/read-docs.js';
import {writeDocs} from '../../../src/data/io/write-docs.js';

async function roundTrip(lines: string[], change: (doc: Doc) => Doc = (d) => d): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dsk-raw-'));
  const input = join(dir, 'in.jsonl');
  const output = join(dir, 'out.jsonl');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const docs: Doc[] = [];
  for await (const doc of readDocs({input})) docs.push(change(doc));
  await writeDocs(docs, {output});
  return readFileSync(output, 'utf8').trimEnd().split('\n');
}

describe('unchanged JSONL rows are copied, not re-serialized', () => {
  it('copies an unchanged row byte for byte (its spacing and key order)', async () => {
    const line = '{"label": "pos", "text": "Caf\\u00e9 scenes", "id": "a1", "n": 1.50}';
    expect(await roundTrip([line])).toEqual([line]);
  });

  it('re-serializes a row whose text, id or fields a step changed', async () => {
    const line = '{"id": "a1", "text": "old", "label": "pos"}';
    const [text] = await roundTrip([line], (d) => ({...d, text: 'new'}));
    expect(JSON.parse(text!)).toEqual({id: 'a1', text: 'new', label: 'pos'});
    const [id] = await roundTrip([line], (d) => ({...d, id: 'a1#aug1'}));
    expect(JSON.parse(id!).id).toBe('a1#aug1');
    const [fields] = await roundTrip([line], (d) => ({...d, fields: {...d.fields, augmented: true}}));
    expect(JSON.parse(fields!).augmented).toBe(true);
  });

  it('copies rows with numeric ids and labels or a weight as they came; a made id is added', async () => {
    const lines = [
      '{"text": "no id"}',
      '{"id": "b", "text": "x", "label": 1}',
      '{"id": 3, "text": "y", "weight": "2"}',
      '{"id": "d", "text": "z", "label": null}',
    ];
    const out = await roundTrip(lines);
    expect(JSON.parse(out[0]!)).toEqual({id: 'in.jsonl:1', text: 'no id'});
    expect(out.slice(1)).toEqual(lines.slice(1));
  });

  it('a changed row keeps its typed id and label', async () => {
    const out = await roundTrip(
      ['{"id": 3, "text": "y", "label": true}', '{"id": 4, "text": "z", "label": null}'],
      (d) => ({...d, text: `${d.text}!`}),
    );
    expect(out.map((l) => JSON.parse(l))).toEqual([
      {id: 3, text: 'y!', label: true},
      {id: 4, text: 'z!', label: null},
    ]);
  });

  it("keeps the line out of sight of the row's users: keys, spread, JSON and strict equality see a plain row", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsk-raw-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"id": "a", "text": "x", "label": "pos", "n": 2}\n');
    const docs: Doc[] = [];
    for await (const doc of readDocs({input})) docs.push(doc);
    const plain = {id: 'a', text: 'x', label: 'pos', fields: {n: 2}};
    expect(docs[0]).toStrictEqual(plain);
    expect(Object.keys(docs[0]!)).toEqual(['id', 'text', 'fields', 'label']);
    expect(Reflect.ownKeys(docs[0]!)).toEqual(Object.keys(docs[0]!));
    expect(JSON.parse(JSON.stringify(docs[0]))).toEqual(plain);
    // A copy is a new row: it has no input line, so it is serialized (same values, canonical spacing).
    const output = join(dir, 'out.jsonl');
    await writeDocs([{...docs[0]!}, docs[0]!], {output});
    expect(readFileSync(output, 'utf8').split('\n').slice(0, 2)).toEqual([
      '{"id":"a","text":"x","label":"pos","n":2}',
      '{"id": "a", "text": "x", "label": "pos", "n": 2}',
    ]);
  });
});
