// npm run bench:tokenizer [-- --json]: training time, vocabulary size and compression of the BPE and
// WordPiece tokenizers on the fixture texts (Moby-Dick chapters 1-36, 2,000 IMDB reviews, and all
// fixture text together, past the native trainer's 30,000 cap), compression on held-out text.
import {readFile} from 'node:fs/promises';
import {trainTokenizer} from '../src/tokenizer/train-tokenizer.js';
import {printRows, type Row} from './report.js';

const jsonlTexts = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as {text: string}).text);

const moby = (await readFile('fixtures/text/moby-dick.txt', 'utf8')).split(/\n\s*\n/);
const corpora: Record<string, {train: string[]; heldOut: string[]}> = {
  'moby-dick': {train: moby.filter((_, i) => i % 10 !== 0), heldOut: moby.filter((_, i) => i % 10 === 0)},
  imdb: {
    train: await jsonlTexts('fixtures/imdb/reviews.jsonl'),
    heldOut: await jsonlTexts('fixtures/imdb/test.jsonl'),
  },
};

// All fixture text together (~3.5 MB) takes BPE past the native trainer's 30,000-token cap.
const all = [
  ...moby,
  ...corpora.imdb!.train,
  ...(await jsonlTexts('fixtures/spam/emails.jsonl')),
  ...(await jsonlTexts('fixtures/reuters/news.jsonl')),
];
const plan: Array<[string, 'bpe' | 'wordpiece', number]> = [];
for (const corpus of Object.keys(corpora)) {
  for (const kind of ['bpe', 'wordpiece'] as const)
    for (const size of [1000, 8000, 30000]) plan.push([corpus, kind, size]);
}
plan.push(['all fixtures', 'bpe', 40000], ['all fixtures', 'wordpiece', 40000]);
corpora['all fixtures'] = {train: all, heldOut: corpora.imdb!.heldOut};

const rows: Row[] = [];
for (const [corpus, kind, vocabSize] of plan) {
  const {train, heldOut} = corpora[corpus]!;
  const trainBytes = train.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const heldBytes = heldOut.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const tok = await trainTokenizer({kind, vocabSize, texts: train});
  const t0 = performance.now();
  const ids = await tok.encodeBatch(heldOut);
  const encodeSeconds = (performance.now() - t0) / 1000;
  const tokens = ids.reduce((n, x) => n + x.length, 0);
  rows.push({
    corpus,
    kind,
    train_kb: Math.round(trainBytes / 1024),
    requested: vocabSize,
    vocab: tok.vocabSize,
    limited_by: tok.training?.limitedBy ?? '',
    train_s: tok.training!.seconds,
    encode_mb_s: heldBytes / 1e6 / encodeSeconds,
    bytes_per_token: heldBytes / tokens,
  });
}
printRows(rows);
