import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {packageInfo} from '../../src/backend/info.js';
import {type ExportMetadata, parseExportMetadata} from '../../src/models/export-metadata.js';
import type {ClassifierEvaluation, LanguageModelEvaluation} from '../../src/models/model-kind.js';
import {openRun} from '../../src/models/registry.js';
import {loadTokenizer} from '../../src/tokenizer/tokenizer.js';
import {evaluateRun} from '../../src/workflows/evaluate.js';
import {exportRun, TOKENIZER_CONFIG} from '../../src/workflows/export.js';
import {generate} from '../../src/workflows/generate.js';
import {predictRun} from '../../src/workflows/predict.js';
import {ROOT} from '../helpers/cli.js';
import {storedMetadata, TINY_RUNS, trainTinyRuns} from '../runtime/tiny-exports.js';

const IRIS = join(ROOT, 'fixtures/tabular/iris.csv');

/** `export` on every kind: the metadata the runtime reads, tokenizer_config.json, and exports read back by the kit. */
describe('export', () => {
  let dir: string;
  const exported = (name: string) => join(dir, 'exports', name);

  beforeAll(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'dsk-export-'));
    await trainTinyRuns(dir);
    for (const name of Object.values(TINY_RUNS))
      await exportRun({model: join(dir, name), out: exported(name), dtype: 'none'});
    await exportRun({model: join(dir, TINY_RUNS.text), out: exported('text-int8'), dtype: 'int8'});
  });

  const tokenizerConfig = async (name: string) =>
    JSON.parse(await readFile(join(exported(name), TOKENIZER_CONFIG), 'utf8'));

  afterAll(async () => {
    await rm(dir, {recursive: true, force: true});
  });

  it('writes every field the runtime reads into model.json, checked by the runtime parser', async () => {
    const version = packageInfo().version;
    const meta: Record<string, ExportMetadata> = {};
    for (const name of Object.values(TINY_RUNS)) {
      const stored = await storedMetadata(exported(name));
      meta[name] = parseExportMetadata(stored, name);
      expect(stored.kitVersion).toBe(version);
    }
    const {kind, run} = await openRun(join(dir, TINY_RUNS.text));
    run.model.dispose();
    expect(meta[TINY_RUNS.text]).toMatchObject({
      kind: 'text-classifier',
      output: 'class-logits',
      labels: run.labels,
      maxLen: 32,
      tokenizer: {file: 'tokenizer.json', kind: 'wordpiece'},
      specialTokens: {...run.tokenizer!.special},
    });
    expect(kind.id).toBe('text-classifier');
    const irisConfig = JSON.parse(await readFile(join(dir, TINY_RUNS.iris, 'config.json'), 'utf8'));
    expect(meta[TINY_RUNS.iris]).toMatchObject({
      kind: 'feature-classifier',
      input: {name: 'features', dtype: 'float32', shape: [null, 4]},
      features: irisConfig.features,
      labels: ['setosa', 'versicolor', 'virginica'],
      labelField: 'species',
    });
    expect(meta[TINY_RUNS.lm]).toMatchObject({
      kind: 'causal-lm',
      contextLength: 48,
      decoder: {numLayers: 2, positions: 'rope', tiedHead: true},
      tokenizer: {file: 'tokenizer.json', kind: 'bpe'},
    });
    expect(meta[TINY_RUNS.lmLearned]).toMatchObject({
      decoder: {numLayers: 2, positions: 'learned', tiedHead: false},
      tokenizer: {kind: 'byte'},
    });
    expect((meta[TINY_RUNS.lm] as {specialTokens: {eos?: number}}).specialTokens.eos).toBeTypeOf('number');
  });

  it('writes tokenizer_config.json as transformers reads it: class, max length, padding side, special tokens by string', async () => {
    for (const [name, maxLength] of [
      [TINY_RUNS.text, 32],
      [TINY_RUNS.lm, 48],
      [TINY_RUNS.lmLearned, 48],
    ] as const) {
      const config = await tokenizerConfig(name);
      expect(config).toMatchObject({
        tokenizer_class: 'PreTrainedTokenizerFast',
        model_max_length: maxLength,
        padding_side: 'right',
        truncation_side: 'right',
      });
      // Each special token names, by its string, the id the kit gave that role; transformers looks
      // the string up in tokenizer.json, so it must be a token of that file with that id.
      const tokenizer = await loadTokenizer(join(exported(name), 'tokenizer.json'));
      const roles = Object.entries(tokenizer.special);
      expect(roles.length).toBeGreaterThan(0);
      for (const [role, id] of roles) {
        const token = config[`${role}_token`];
        expect(token, `${name} ${role}`).toBeTypeOf('string');
        expect(tokenizer.tokenToId(token)).toBe(id);
      }
    }
    expect((await tokenizerConfig(TINY_RUNS.text)).pad_token).toBe('[PAD]');
    // The raw-byte tokenizer reads "[BOS]" in a text as bytes; transformers does so only when told
    // (npm run check:hf-tokenizer compares Python's ids with the kit's).
    expect((await tokenizerConfig(TINY_RUNS.lmLearned)).split_special_tokens).toBe(true);
    expect((await tokenizerConfig(TINY_RUNS.lm)).split_special_tokens).toBeUndefined();
    // A numeric-feature classifier has no tokenizer, so no tokenizer files.
    await expect(readFile(join(exported(TINY_RUNS.iris), TOKENIZER_CONFIG))).rejects.toThrow(/ENOENT/);
  });

  it('iris: the export scores raw rows as the run does (probabilities within 1e-4), through predict and evaluate', async () => {
    const rows = async (model: string) => {
      const out = join(dir, `predict-${model.replaceAll('/', '_')}.jsonl`);
      await predictRun({model, input: IRIS, output: out});
      return (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as {label: string; probabilities: Record<string, number>});
    };
    const run = await rows(join(dir, TINY_RUNS.iris));
    const exportedRows = await rows(exported(TINY_RUNS.iris));
    expect(exportedRows).toHaveLength(150);
    let worst = 0;
    for (const [i, row] of exportedRows.entries()) {
      expect(row.label).toBe(run[i]!.label);
      for (const [label, p] of Object.entries(row.probabilities))
        worst = Math.max(worst, Math.abs(p - run[i]!.probabilities[label]!));
    }
    expect(worst).toBeLessThan(1e-4);
    const score = async (model: string) =>
      ((await evaluateRun({model, data: IRIS})) as ClassifierEvaluation).accuracy;
    const accuracy = await score(exported(TINY_RUNS.iris));
    expect(accuracy).toBe(await score(join(dir, TINY_RUNS.iris)));
    // Unstandardized rows score as one class (0.333); standardized ones above it.
    expect(accuracy).toBeGreaterThan(0.5);
  });

  it('generate and evaluate read an LM export as its run: the same greedy tokens, the same perplexity', async () => {
    for (const name of [TINY_RUNS.lm, TINY_RUNS.lmLearned]) {
      const options = {temperature: 0, maxTokens: 20};
      const fromRun = await generate(join(dir, name), 'Call me Ishmael.', options);
      const fromExport = await generate(exported(name), 'Call me Ishmael.', options);
      expect(fromExport.ids).toEqual(fromRun.ids);
      expect(fromExport.text).toBe(fromRun.text);
      // The shared decode loop streams exactly the result, up to a stop string inside a token.
      const pieces: string[] = [];
      const stop = fromRun.text.slice(6, 9);
      const stopped = await generate(exported(name), 'Call me Ishmael.', {
        ...options,
        stop: [stop],
        onText: (piece) => pieces.push(piece),
      });
      expect(stopped.stopped_by).toBe('stop');
      expect(stopped.text).toBe(fromRun.text.slice(0, fromRun.text.indexOf(stop)));
      expect(pieces.join('')).toBe(stopped.text);
      const text = join(dir, 'moby.txt');
      const ppl = async (model: string) =>
        ((await evaluateRun({model, data: text})) as LanguageModelEvaluation).perplexity;
      expect(await ppl(exported(name))).toBeCloseTo(await ppl(join(dir, name)), 3);
    }
  });

  it('evaluate reads an int8 export (weights decoded at load) and predict refuses an LM export as it refuses the run', async () => {
    const data = join(dir, 'reviews.jsonl');
    const fp32 = (await evaluateRun({model: exported(TINY_RUNS.text), data})) as ClassifierEvaluation;
    const int8 = (await evaluateRun({model: exported('text-int8'), data})) as ClassifierEvaluation;
    expect(fp32.accuracy).toBe(
      ((await evaluateRun({model: join(dir, TINY_RUNS.text), data})) as ClassifierEvaluation).accuracy,
    );
    expect(Math.abs(int8.accuracy - fp32.accuracy)).toBeLessThan(0.05);
    await expect(
      predictRun({model: exported(TINY_RUNS.lm), input: IRIS, output: join(dir, 'x.jsonl')}),
    ).rejects.toThrow(/predict works on classifier runs/);
  });

  it('names an export without the kit metadata (an older kit) and says to export again', async () => {
    const old = exported('old');
    await exportRun({model: join(dir, TINY_RUNS.iris), out: old, dtype: 'none'});
    const json = JSON.parse(await readFile(join(old, 'model.json'), 'utf8'));
    delete json.userDefinedMetadata.deepseek_kit.model;
    await writeFile(join(old, 'model.json'), JSON.stringify(json));
    await expect(evaluateRun({model: old, data: IRIS})).rejects.toThrow(
      /old is neither a run folder \(no config\.json\) nor an export of this kit .*export the run again/,
    );
  });
});
