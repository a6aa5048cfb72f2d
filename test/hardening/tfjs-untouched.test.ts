import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {afterAll, describe, expect, it} from 'vitest';
import {tinyRun} from './tiny-run.js';

// tfjs's Layer.prototype.addWeight before anything of the kit is imported.
const addWeight = () => (tf.layers.Layer.prototype as unknown as {addWeight: unknown}).addWeight;
const pristine = addWeight();
let root: string | undefined;
afterAll(() => (root ? rm(root, {recursive: true, force: true}) : undefined));

describe('the kit leaves tfjs as it found it', () => {
  it('importing deepseek-kit, and loading a model with it, keeps Layer.prototype.addWeight', async () => {
    const kit = await import('../../src/index.js');
    expect(addWeight()).toBe(pristine);
    await kit.initBackend();
    root = await mkdtemp(join(tmpdir(), 'dsk-tfjs-untouched-'));
    const loaded = await kit.loadRun(await tinyRun(root, 'run'));
    loaded.model.dispose();
    expect(addWeight()).toBe(pristine);
    // A model built outside a load is not counted against any budget.
    const big = tf.sequential({layers: [tf.layers.dense({units: 512, inputShape: [512]})]});
    expect(big.countParams()).toBe(512 * 513);
    big.dispose();
  });
});
