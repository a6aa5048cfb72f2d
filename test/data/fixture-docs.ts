import {readFileSync} from 'node:fs';
import type {Doc} from '../../src/data/doc.js';

/** The rows of a fixture JSONL file as Docs (tests only: reads the whole file). */
export function fixtureDocs(path = 'fixtures/imdb/reviews.jsonl'): Doc[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const {id, text, label, ...fields} = JSON.parse(line) as {id: string; text: string; label: string};
      return {id, text, label, fields};
    });
}
