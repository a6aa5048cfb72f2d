import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {DRIFT_REFERENCE_FILE} from '../../src/monitor/drift-reference.js';
import {trainRun} from '../../src/workflows/train.js';

/** Tiny run folders for serving tests: a language model and a text classifier, trained in seconds. */
export interface ServeRuns {
  root: string;
  lm: string;
  classifier: string;
  /** A numeric-feature classifier (iris). */
  features: string;
  /** A language model with MoE feed-forward blocks. */
  moe: string;
  /** The classifier without its drift reference. */
  noReference: string;
  /** A folder with a config but no model. */
  broken: string;
  cleanup(): Promise<void>;
}

export async function trainServeRuns(): Promise<ServeRuns> {
  const root = await mkdtemp(join(tmpdir(), 'dsk-serve-'));
  const text = join(root, 'moby.txt');
  await writeFile(text, (await readFile('fixtures/text/moby-dick.txt', 'utf8')).slice(0, 40_000));
  const lm = join(root, 'lm');
  await trainRun('lm', {data: text, out: lm, preset: 'tiny', steps: 8, overrides: {tokenizerKind: 'byte'}});
  const classifier = join(root, 'clf');
  await trainRun('classify', {
    data: 'fixtures/imdb/reviews.jsonl',
    out: classifier,
    preset: 'bag',
    epochs: 1,
    vocabSize: 2000,
  });
  const features = join(root, 'iris');
  await trainRun('classify', {
    data: 'fixtures/tabular/iris.csv',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    labelField: 'species',
    out: features,
    epochs: 2,
  });
  const moe = join(root, 'moe');
  await trainRun('lm', {
    data: text,
    out: moe,
    preset: 'tiny',
    steps: 2,
    overrides: {tokenizerKind: 'byte', ffn: 'moe'},
  });
  const noReference = join(root, 'clf-noref');
  await cp(classifier, noReference, {recursive: true});
  await rm(join(noReference, DRIFT_REFERENCE_FILE));
  const broken = join(root, 'broken');
  await cp(classifier, broken, {recursive: true});
  await rm(join(broken, 'model'), {recursive: true});
  return {
    root,
    lm,
    classifier,
    features,
    moe,
    noReference,
    broken,
    cleanup: () => rm(root, {recursive: true, force: true}),
  };
}
