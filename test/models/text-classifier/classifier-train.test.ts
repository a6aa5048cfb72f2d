import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {DatasetError, ModelError} from '../../../src/errors.js';
import type {ClassifierEvaluation} from '../../../src/models/model-kind.js';
import {trainClassifier} from '../../../src/models/text-classifier/classifier-train.js';
import type {TrainRunOptions} from '../../../src/models/train-options.js';
import {trainTokenizer} from '../../../src/tokenizer/train-tokenizer.js';
import {evaluateRun} from '../../../src/workflows/evaluate.js';

let dir: string;
const TINY = {maxLen: 24, dModel: 16, numHeads: 2, ffnHidden: 32, numLayers: 1, vocabSize: 300};
const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'dsk-classifier-'));
  await file('tiny.json', JSON.stringify(TINY));
  const reviews = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8'))
    .split('\n')
    .slice(0, 240)
    .join('\n');
  await file('imdb240.jsonl', reviews);
});
afterAll(() => rm(dir, {recursive: true, force: true}));

const base = (o: Partial<TrainRunOptions>): TrainRunOptions => ({
  data: join(dir, 'imdb240.jsonl'),
  out: join(dir, 'run'),
  configFile: join(dir, 'tiny.json'),
  batchSize: 16,
  ...o,
});

describe('trainClassifier: bad input', () => {
  it('names the file, row and key, and leaves no run folder behind', async () => {
    const two = [
      {text: 'good film', label: 'pos'},
      {text: 'bad film', label: 'neg'},
    ];
    const cases: [string, string, RegExp, Partial<TrainRunOptions>?][] = [
      ['empty.jsonl', '', /empty\.jsonl: no rows/],
      [
        'one.jsonl',
        jsonl([
          {text: 'a', label: 'x'},
          {text: 'b', label: 'x'},
        ]),
        /one\.jsonl: every row has the label "x".*two classes/,
      ],
      ['nolabel.jsonl', jsonl([...two, {text: 'no label here'}]), /nolabel\.jsonl row 3 .*no "label" field/],
      ['notext.jsonl', jsonl([...two, {body: 'x', label: 'pos'}]), /notext\.jsonl line 3: no "text" field/],
      [
        'ok.jsonl',
        jsonl(two),
        /val\.jsonl row 2: label "meh" never occurs in the training data/,
        {val: 'val'},
      ],
      ['ok2.jsonl', jsonl(two), /unknown config key "dmodel"/, {configFile: 'bad'}],
      // tiny.json asks for 300 ids; the tokenizer file has 120.
      [
        'ok3.jsonl',
        jsonl(two),
        /vocabSize in .*tiny\.json is 300, but the tokenizer .*wp120\.json has 120 ids/,
        {tokenizer: 'x'},
      ],
    ];
    await file(
      'val.jsonl',
      jsonl([
        {text: 'fine', label: 'pos'},
        {text: 'so so', label: 'meh'},
      ]),
    );
    await file('bad.yaml', 'dmodel: 4\n');
    const texts = (await readFile(join(dir, 'imdb240.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const wp = await trainTokenizer({
      kind: 'wordpiece',
      vocabSize: 120,
      texts: texts.map((l) => JSON.parse(l).text),
    });
    await wp.save(join(dir, 'wp120.json'));
    for (const [name, content, message, extra] of cases) {
      const out = join(dir, `out-${name}`);
      const options = base({data: await file(name, content), out});
      if (extra?.val) options.val = join(dir, 'val.jsonl');
      if (extra?.configFile) options.configFile = join(dir, 'bad.yaml');
      if (extra?.tokenizer) options.tokenizer = join(dir, 'wp120.json');
      const error = await trainClassifier(options).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
      expect(error instanceof DatasetError || (error as {exitCode?: number}).exitCode === 1).toBe(true);
      expect(await exists(out), `${name} left ${out}`).toBe(false);
    }
  });

  it('refuses an output folder that holds another run', async () => {
    const out = join(dir, 'taken');
    await trainClassifier(base({out, steps: 2}));
    const error = await trainClassifier(base({out, steps: 2})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/taken already holds another run.*--overwrite/);
    expect((await readdir(out)).sort()).toEqual([
      'checkpoints',
      'config.json',
      'labels.json',
      'metrics.jsonl',
      'model',
      'tokenizer.json',
    ]);
  });
});

describe('trainClassifier: resume', () => {
  it('stopped at step 10 and resumed to 20 ends where a straight 20-step run ends', async () => {
    const straight = await trainClassifier(base({out: join(dir, 'straight'), steps: 20}));
    const controller = new AbortController();
    const first = await trainClassifier(
      base({
        out: join(dir, 'resumed'),
        steps: 20,
        signal: controller.signal,
        onStep: (e) => {
          if (e.step >= 10) controller.abort();
        },
      }),
    );
    expect(first.stopped_by).toBe('aborted');
    expect(first.steps).toBe(10);
    // As a crash would: no final model, only the checkpoint, tokenizer and labels.
    await rm(join(dir, 'resumed', 'model'), {recursive: true});
    const resumed = await trainClassifier(base({out: join(dir, 'resumed'), steps: 20, resume: true}));
    expect(resumed.resumed_from).toBe(10);
    expect(resumed.steps).toBe(20);
    expect(resumed.final_loss).toBeCloseTo(straight.final_loss, 5);
    expect(resumed.validation!.val_loss).toBeCloseTo(straight.validation!.val_loss!, 5);
    expect(resumed.validation!.val_acc).toBe(straight.validation!.val_acc);
  });
});

describe('trainClassifier: sample weights', () => {
  it('reads the weight field: a class weighted 0 is never learnt', async () => {
    const rows = (await readFile(join(dir, 'imdb240.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {text: string; label: string});
    const weighted = await file(
      'weighted.jsonl',
      jsonl(rows.map((r) => ({...r, weight: r.label === 'pos' ? 0 : 1}))),
    );
    const out = join(dir, 'weighted');
    await trainClassifier(base({data: weighted, val: join(dir, 'imdb240.jsonl'), out, steps: 15, lr: 1e-2}));
    const metrics = (await evaluateRun({
      model: out,
      data: join(dir, 'imdb240.jsonl'),
    })) as ClassifierEvaluation;
    expect(metrics.per_class.pos!.recall).toBe(0);
    expect(metrics.per_class.neg!.recall).toBe(1);
  });
});
