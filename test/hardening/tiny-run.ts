import {cp, mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildClassifier, DEFAULT_CLASSIFIER_CONFIG} from '../../src/models/text-classifier/classifier.js';
import {writePlainRun} from '../../src/run/run-folder.js';
import {trainTokenizer} from '../../src/tokenizer/train-tokenizer.js';

/** A classifier small enough to build in milliseconds. */
export const TINY_CONFIG = {
  ...DEFAULT_CLASSIFIER_CONFIG,
  maxLen: 8,
  dModel: 8,
  numHeads: 2,
  ffnHidden: 16,
  numLayers: 1,
  vocabSize: 40,
};

const TEXTS = [
  'the film was good and the cast was great',
  'a dull plot with bad acting and a bad end',
  'good fun, great music, a good cast',
  'bad, dull and far too long',
];

let template: Promise<string> | undefined;

/**
 * A fresh copy of a complete text-classifier run folder (config.json, model/, tokenizer.json,
 * labels.json with two labels), made once per test file and copied for each test.
 */
export async function tinyRun(root: string, name: string): Promise<string> {
  template ??= (async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'dsk-tiny-run-')), 'run');
    const tokenizer = await trainTokenizer({
      kind: 'wordpiece',
      vocabSize: TINY_CONFIG.vocabSize,
      texts: TEXTS,
    });
    const config = {...TINY_CONFIG, vocabSize: tokenizer.vocabSize};
    const model = buildClassifier(config, tokenizer.vocabSize, 2);
    const runConfig = {
      task: 'classify',
      model: config,
      labels: ['neg', 'pos'],
      data: {textField: 'text', labelField: 'label'},
    };
    await writePlainRun(dir, runConfig, model, {tokenizer, labels: ['neg', 'pos']});
    model.dispose();
    return dir;
  })();
  const out = join(root, name);
  await cp(await template, out, {recursive: true});
  return out;
}

/** Labeled rows of the tiny run's texts (`text`, `label` neg/pos) in `root/data.jsonl`: data to fine-tune or score it on. */
export async function tinyData(root: string): Promise<string> {
  const file = join(root, 'data.jsonl');
  const rows = TEXTS.map((text, i) => JSON.stringify({text, label: i % 2 === 0 ? 'pos' : 'neg'}));
  await writeFile(file, `${rows.join('\n')}\n`);
  return file;
}
