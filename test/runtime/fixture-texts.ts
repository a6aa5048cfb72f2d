import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {ROOT} from '../helpers/cli.js';

const JSONL = ['imdb/test.jsonl', 'reuters/news.jsonl', 'spam/emails.jsonl', 'text/sotu.jsonl'];

/** Every text of the fixtures the kit tokenizes (reviews, news, emails, speeches, Moby-Dick's paragraphs). */
export async function fixtureTexts(): Promise<string[]> {
  const texts: string[] = [];
  for (const file of JSONL) {
    for (const line of (await readFile(join(ROOT, 'fixtures', file), 'utf8')).split('\n')) {
      if (line.trim()) texts.push((JSON.parse(line) as {text: string}).text);
    }
  }
  const moby = await readFile(join(ROOT, 'fixtures/text/moby-dick.txt'), 'utf8');
  return [...texts, ...moby.split(/\n\s*\n/)];
}
