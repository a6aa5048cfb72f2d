import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {prepareRunFolder} from '../../src/run/run-folder.js';
import {withRunLock} from '../../src/run/run-lock.js';
import {saveCheckpoint} from '../../src/train/checkpoint.js';
import {exportRun} from '../../src/workflows/export.js';
import {exportOnnxRun} from '../../src/workflows/export-onnx.js';
import {finetune} from '../../src/workflows/finetune.js';
import {mergeAdapter} from '../../src/workflows/merge.js';
import {pruneRun} from '../../src/workflows/prune.js';
import {tinyData, tinyRun} from './tiny-run.js';

// Saving a model fails while `failSave.on` (a full disk half-way through a command's output).
const failSave = vi.hoisted(() => ({on: false}));
vi.mock('../../src/compress/model-folder.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/compress/model-folder.js')>();
  const fail = () => {
    if (failSave.on) throw new Error('ENOSPC: no space left on device (simulated)');
  };
  return {
    ...real,
    modelFolderHandler: (...args: Parameters<typeof real.modelFolderHandler>) => {
      const handler = real.modelFolderHandler(...args);
      return {
        ...handler,
        save: async (a: Parameters<NonNullable<typeof handler.save>>[0]) => {
          fail();
          return handler.save!(a);
        },
      };
    },
    writeModelFolder: async (...args: Parameters<typeof real.writeModelFolder>) => {
      fail();
      return real.writeModelFolder(...args);
    },
  };
});

let root: string;
let run: string;

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-replace-out-'));
  run = await tinyRun(root, 'run');
  await tinyData(root);
});
afterAll(() => rm(root, {recursive: true, force: true}));

/** An --out folder holding an old output, marked so the test sees whether it survived. */
async function oldOut(name: string): Promise<string> {
  const out = join(root, name);
  await tinyRun(root, name);
  await writeFile(join(out, 'marker'), 'old');
  return out;
}

/** The old output is there as it was, and no temporary or set-aside folder is left beside it. */
async function intact(out: string): Promise<void> {
  expect(await readFile(join(out, 'marker'), 'utf8')).toBe('old');
  expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
}

async function failing<T>(job: () => Promise<T>, pattern: RegExp): Promise<void> {
  failSave.on = true;
  try {
    await expect(job()).rejects.toThrow(pattern);
  } finally {
    failSave.on = false;
  }
}

describe('a failing command leaves the previous --out intact (--overwrite replaces it only at the end)', () => {
  it('prune: a failure after the model is written, and one while it is written', async () => {
    const out = await oldOut('pruned');
    const missing = join(root, 'missing.jsonl');
    const options = {model: run, out, method: 'magnitude' as const, overwrite: true};
    await expect(pruneRun({...options, eval: missing})).rejects.toThrow(/missing\.jsonl/);
    await intact(out);
    await failing(() => pruneRun(options), /ENOSPC/);
    await intact(out);
    await pruneRun(options);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'labels.json', 'model', 'tokenizer.json']);
  });

  it('merge: a failure while the merged model is written', async () => {
    const adapter = join(root, 'lora');
    await finetune({model: run, data: join(root, 'data.jsonl'), out: adapter, steps: 2, batchSize: 2});
    const out = await oldOut('merged');
    const options = {model: run, adapter, out, overwrite: true};
    await failing(() => mergeAdapter(options), /ENOSPC/);
    await intact(out);
    await mergeAdapter(options);
    expect(await readdir(out)).not.toContain('marker');
  });

  it('export and export --format onnx: a failure while the folder is written, or after', async () => {
    const out = await oldOut('exported');
    await failing(() => exportRun({model: run, out, dtype: 'int8', overwrite: true}), /ENOSPC/);
    await intact(out);
    const missing = join(root, 'missing.jsonl');
    await expect(exportRun({model: run, out, dtype: 'int8', overwrite: true, eval: missing})).rejects.toThrow(
      /missing\.jsonl/,
    );
    await exportOnnxRun({model: run, out, overwrite: true});
    expect(await readdir(out)).toContain('model.onnx');
    expect(await readdir(out)).not.toContain('marker');
  });

  it('train, finetune, distill (written in place): a job that fails before its first checkpoint puts the old run back', async () => {
    const out = await oldOut('trained');
    const boom = () =>
      withRunLock(out, undefined, async () => {
        await prepareRunFolder(out, {task: 'classify'}, {overwrite: true});
        await writeFile(join(out, 'metrics.jsonl'), '{"step":1}\n');
        throw new Error('out of memory (simulated)');
      });
    await expect(boom()).rejects.toThrow(/out of memory/);
    await intact(out);
    expect(await readdir(out)).not.toContain('metrics.jsonl');

    // With a checkpoint the new run is the run (--resume continues it): the old one goes.
    await expect(
      withRunLock(out, undefined, async () => {
        await prepareRunFolder(out, {task: 'classify'}, {overwrite: true});
        await saveCheckpoint(out, {
          state: {
            step: 1,
            data: {epoch: 0, batchIndex: 1, orderSeed: 1},
            rng: {seed: 1, scheme: 'counter'},
            settings: {},
            savedAt: new Date().toISOString(),
          },
          weights: [],
          optimizer: [],
        });
        throw new Error('diverged (simulated)');
      }),
    ).rejects.toThrow(/diverged/);
    expect(await readdir(out)).toContain('checkpoints');
    expect(await readdir(out)).not.toContain('marker');
    expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('finetune --overwrite failing after its checkpoint keeps the new, resumable run and nothing aside', async () => {
    const out = await oldOut('finetuned');
    // Saving the adapter's model fails after training: the trainer wrote a checkpoint, so the
    // new run stays (resumable); with the failure before any checkpoint the old one comes back.
    const options = {
      model: run,
      data: join(root, 'data.jsonl'),
      out,
      steps: 2,
      batchSize: 2,
      overwrite: true,
    };
    await failing(() => finetune({...options, method: 'full'}), /ENOSPC/);
    expect(await readdir(join(out, 'checkpoints'))).toContain('latest');
    expect((await readdir(root)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
