import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {type ExportOptions, exportModel} from '../../src/compress/export.js';
import {loadModelFolder} from '../../src/compress/model-folder.js';
import {type KindAndRun, openRun} from '../../src/models/registry.js';
import {trainRun} from '../../src/workflows/train.js';
import {accuracyPercent, type ImdbBow, trainImdbBow} from './imdb-bow.js';

/** Issue 7's bars on a classifier trained here on the fixture IMDB reviews (test split: 1,000). */
describe('compression bars on IMDB', () => {
  let root: string;
  let bow: ImdbBow;
  const result: Record<string, {accuracy: number; bytes: number; weightError: number}> = {};

  const measure = async (name: string, options: ExportOptions) => {
    const report = await exportModel(bow.model, join(root, name), options);
    const model = await loadModelFolder(join(root, name));
    result[name] = {
      accuracy: accuracyPercent(model, bow.xTest, bow.yTest),
      bytes: report.model_bytes,
      weightError: report.mean_abs_error,
    };
    model.dispose();
  };

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-bars-'));
    bow = await trainImdbBow();
    await measure('fp32', {dtype: 'none'});
    await measure('float16', {dtype: 'float16'});
    await measure('uint8 per-tensor (tfjs)', {dtype: 'uint8'});
    await measure('int8 per-channel', {dtype: 'int8'});
    await measure('int8 per-tensor', {dtype: 'int8', granularity: 'per-tensor'});
    await measure('int4 per-channel', {dtype: 'int4'});
    await measure('int4 per-channel g32', {dtype: 'int4', groupSize: 32});
    const fp32 = result.fp32!;
    console.log(
      Object.entries(result)
        .map(
          ([name, r]) =>
            `${name.padEnd(24)} bytes ${String(r.bytes).padStart(8)} (${((100 * r.bytes) / fp32.bytes).toFixed(1)}%)  ` +
            `accuracy ${r.accuracy.toFixed(1)} (drop ${(fp32.accuracy - r.accuracy).toFixed(1)})  mean |Δw| ${r.weightError.toExponential(2)}`,
        )
        .join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    bow?.dispose();
    await rm(root, {recursive: true, force: true});
  });

  const drop = (name: string) => result.fp32!.accuracy - result[name]!.accuracy;
  const ratio = (name: string) => result[name]!.bytes / result.fp32!.bytes;

  it('the fp32 model learnt the task', () => {
    expect(result.fp32!.accuracy).toBeGreaterThan(75);
  });

  it('int8 per-channel: at most 27% of the fp32 bytes, accuracy drop at most 1 point', () => {
    expect(ratio('int8 per-channel')).toBeLessThanOrEqual(0.27);
    expect(drop('int8 per-channel')).toBeLessThanOrEqual(1);
  });

  it('float16: at most 51% of the bytes, accuracy drop at most 0.1 point', () => {
    expect(ratio('float16')).toBeLessThanOrEqual(0.51);
    expect(drop('float16')).toBeLessThanOrEqual(0.1);
  });

  it('per-channel int8 loses no more accuracy than tfjs per-tensor uint8, and less weight error', () => {
    expect(drop('int8 per-channel')).toBeLessThanOrEqual(drop('uint8 per-tensor (tfjs)'));
    expect(result['int8 per-channel']!.weightError).toBeLessThan(
      result['uint8 per-tensor (tfjs)']!.weightError,
    );
  });

  it('int4 is smaller again, and groups cut its weight error', () => {
    expect(result['int4 per-channel']!.bytes).toBeLessThan(result['int8 per-channel']!.bytes);
    expect(result['int4 per-channel g32']!.weightError).toBeLessThan(result['int4 per-channel']!.weightError);
  });
});

/** The same bars on the kit's own `bag` classifier (subword embeddings, masked mean, Dense). */
describe('compression bars on the kit classifier (train --preset bag)', () => {
  let root: string;
  let opened: KindAndRun;
  const result: Record<string, {accuracy: number; bytes: number; weightError: number}> = {};

  beforeAll(async () => {
    await initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-bars-kit-'));
    await trainRun('classify', {data: 'fixtures/imdb/reviews.jsonl', out: join(root, 'run'), preset: 'bag'});
    opened = await openRun(join(root, 'run'));
    const {kind, run} = opened;
    const cases: [string, ExportOptions][] = [
      ['fp32', {dtype: 'none'}],
      ['float16', {dtype: 'float16'}],
      ['uint8', {dtype: 'uint8'}],
      ['int8', {dtype: 'int8'}],
      ['int4', {dtype: 'int4'}],
    ];
    for (const [name, options] of cases) {
      const report = await exportModel(run.model, join(root, name), options);
      const model = await loadModelFolder(join(root, name));
      const metric = (await kind.metric(run, model, 'fixtures/imdb/test.jsonl')) as {accuracy: number};
      result[name] = {
        accuracy: 100 * metric.accuracy,
        bytes: report.model_bytes,
        weightError: report.mean_abs_error,
      };
      model.dispose();
    }
    console.log(
      Object.entries(result)
        .map(
          ([n, r]) =>
            `bag ${n.padEnd(8)} ${((100 * r.bytes) / result.fp32!.bytes).toFixed(1)}% accuracy ${r.accuracy.toFixed(1)}`,
        )
        .join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    opened?.run.model.dispose();
    await rm(root, {recursive: true, force: true});
  });

  const drop = (name: string) => result.fp32!.accuracy - result[name]!.accuracy;
  const ratio = (name: string) => result[name]!.bytes / result.fp32!.bytes;

  it('int8 per-channel ≤ 27% of the bytes and drop ≤ 1 point; float16 ≤ 51% and drop ≤ 0.1', () => {
    expect(result.fp32!.accuracy).toBeGreaterThan(75);
    expect(ratio('int8')).toBeLessThanOrEqual(0.27);
    expect(drop('int8')).toBeLessThanOrEqual(1);
    expect(ratio('float16')).toBeLessThanOrEqual(0.51);
    expect(drop('float16')).toBeLessThanOrEqual(0.1);
    expect(ratio('int4')).toBeLessThan(ratio('int8'));
  });

  it('per-channel int8 loses no more accuracy than tfjs per-tensor uint8, with less weight error', () => {
    expect(drop('int8')).toBeLessThanOrEqual(drop('uint8'));
    expect(result.int8!.weightError).toBeLessThan(result.uint8!.weightError);
  });
});
