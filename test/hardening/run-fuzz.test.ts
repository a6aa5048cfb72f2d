import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {UserError} from '../../src/errors.js';
import {openRun} from '../../src/models/registry.js';
import {tinyRun} from './tiny-run.js';

// Issue 17's bar: the run-folder validator and the model.json loader under property-based fuzzing,
// fixed seed and bounded time. Whatever the files hold: a run or a user error (exit 1), never an
// internal error; nothing outside the folder is read or quoted; nothing beyond the shards allocated.
const RUNS = {seed: 17, numRuns: 60, interruptAfterTimeLimit: 6000};
const CANARY = 'CANARY-OUTSIDE-THE-RUN';

let root: string;
let run: string;
let pristine: {config: string; labels: string; modelJson: string; shardBytes: number};

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-fuzz-'));
  run = await tinyRun(root, 'run');
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'canary.bin'), `["${CANARY}"]`.padEnd(4096, ' '));
  await symlink(join(root, 'outside', 'canary.bin'), join(run, 'model', 'link.bin'));
  await symlink(join(root, 'outside', 'canary.bin'), join(run, 'link.json'));
  pristine = {
    config: await readFile(join(run, 'config.json'), 'utf8'),
    labels: await readFile(join(run, 'labels.json'), 'utf8'),
    modelJson: await readFile(join(run, 'model', 'model.json'), 'utf8'),
    shardBytes: (await readFile(join(run, 'model', 'group1-shard1of1.bin'))).byteLength,
  };
});
afterAll(() => rm(root, {recursive: true, force: true}));

/** Opens the run; anything but a loaded run or a UserError fails the property. */
async function openOrRefuse(): Promise<void> {
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  try {
    const {run: opened} = await openRun(run);
    // Loaded weights never exceed what the shards hold (float32 here: the same bytes).
    expect(tf.memory().numBytes - bytes).toBeLessThanOrEqual(pristine.shardBytes);
    opened.model.dispose();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    expect(err.message).not.toContain(CANARY);
  }
  expect(tf.memory().numTensors).toBe(tensors);
}

/** A JSON value of the kinds a damaged or hostile file holds. */
const hostile = fc.oneof(
  fc.integer({min: -5, max: 5}),
  fc.constantFrom(0, -1, 1e9, 1e15, 2 ** 31, 0.5, Number.MAX_SAFE_INTEGER, 65_537, 4096),
  fc.constantFrom('128', 'big', '', '../outside/canary.bin', '/etc/passwd', 'link.bin', 'link.json'),
  fc.constantFrom(null, true, [], {}, [null, 1e7], ['a', 'b', 'c']),
  fc.jsonValue({maxDepth: 2}),
);

/** Sets the value at a random path of `json` (objects and arrays walked by index) to `value`. */
function mutate(json: unknown, picks: number[], value: unknown): unknown {
  const copy = structuredClone(json) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const [depth, pick] of picks.entries()) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[pick % keys.length]!;
    const child = node[key];
    if (depth === picks.length - 1 || typeof child !== 'object' || child === null) {
      node[key] = value;
      return copy;
    }
    node = child as Record<string, unknown>;
  }
  return copy;
}

const picks = fc.array(fc.nat(), {minLength: 1, maxLength: 9});

describe('fuzzing the run-folder validator and the model.json loader', () => {
  it('model.json with any one value replaced: a model or a user error', async () => {
    const json = JSON.parse(pristine.modelJson);
    await fc.assert(
      fc.asyncProperty(picks, hostile, async (path, value) => {
        await writeFile(join(run, 'model', 'model.json'), JSON.stringify(mutate(json, path, value)));
        await openOrRefuse();
      }),
      RUNS,
    );
    await writeFile(join(run, 'model', 'model.json'), pristine.modelJson);
  });

  it('weight manifests with hostile paths and shapes: refused before reading outside or allocating', async () => {
    const json = JSON.parse(pristine.modelJson);
    const entry = fc.record({
      name: fc.constantFrom('embed/embeddings', 'logits/kernel', 'x'),
      shape: fc.oneof(fc.array(fc.constantFrom(0, 1, 8, 40, 1e6, 2 ** 31, -1, 1.5), {maxLength: 3}), hostile),
      dtype: fc.constantFrom('float32', 'int32', 'float16', 'complex64', 'string'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant('group1-shard1of1.bin'), hostile), {maxLength: 4}),
        fc.array(entry, {maxLength: 3}),
        async (paths, extra) => {
          const weights = [...json.weightsManifest[0].weights, ...extra];
          const edited = {...json, weightsManifest: [{paths, weights}]};
          await writeFile(join(run, 'model', 'model.json'), JSON.stringify(edited));
          await openOrRefuse();
        },
      ),
      RUNS,
    );
    await writeFile(join(run, 'model', 'model.json'), pristine.modelJson);
  });

  it('config.json and labels.json with any one value replaced: a run or a user error', async () => {
    const config = JSON.parse(pristine.config);
    await fc.assert(
      fc.asyncProperty(
        picks,
        hostile,
        fc.oneof(fc.constant(undefined), hostile),
        async (path, value, labels) => {
          await writeFile(join(run, 'config.json'), JSON.stringify(mutate(config, path, value)));
          await writeFile(
            join(run, 'labels.json'),
            labels === undefined ? pristine.labels : JSON.stringify(labels),
          );
          await openOrRefuse();
        },
      ),
      RUNS,
    );
    await writeFile(join(run, 'config.json'), pristine.config);
    await writeFile(join(run, 'labels.json'), pristine.labels);
  });
});
