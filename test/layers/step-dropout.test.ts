import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {dropout, dropoutSeed, withDropoutSeed} from '../../src/backend/dropout.js';
import {StepDropout} from '../../src/layers/step-dropout.js';
import {
  buildFeatureClassifier,
  DEFAULT_FEATURE_CLASSIFIER_CONFIG,
} from '../../src/models/feature-classifier/feature-classifier.js';
import {graphStepsEnabled} from '../../src/train/graph-step.js';
import {trainableFromLayersModel} from '../../src/train/trainable.js';
import {train} from '../../src/train/trainer.js';
import {blobs, classifierLoss, pointSource} from '../train/toy.js';
import {leakedTensors, rand, saveAndLoad} from './layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('StepDropout', () => {
  it("has Keras Dropout's class name and config, and loads back as tfjs's Dropout with the same predictions", async () => {
    const layer = new StepDropout({rate: 0.25, name: 'drop'});
    expect(layer.getClassName()).toBe('Dropout');
    expect(layer.getConfig()).toMatchObject({rate: 0.25, name: 'drop'});
    const input = tf.input({shape: [6]});
    const model = tf.model({inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor});
    const loaded = await saveAndLoad(model);
    expect(loaded.getLayer('drop').getClassName()).toBe('Dropout');
    expect(loaded.getLayer('drop').getConfig()).toMatchObject({rate: 0.25});
    const x = rand([3, 6]);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(a.dataSync())).toEqual(Array.from(x.dataSync()));
    expect(Array.from(b.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it("draws the step seed's masks in training, passes the input through in inference, and leaks nothing", async () => {
    const layer = new StepDropout({rate: 0.5});
    const x = tf.ones([40, 50]);
    const seed = dropoutSeed(9);
    const leaked = await leakedTensors(() => {
      const kept = withDropoutSeed(seed, () =>
        tf.tidy(() => tf.sum(tf.notEqual(layer.apply(x, {training: true}) as tf.Tensor, 0)).dataSync()[0]!),
      );
      expect(Math.abs(kept / 2000 - 0.5)).toBeLessThan(0.06);
      const out = layer.apply(x, {training: false}) as tf.Tensor;
      expect(out.dataSync().every((v) => v === 1)).toBe(true);
      out.dispose();
    });
    expect(leaked).toBe(0);
    if (seed) {
      // On tfjs-node: the same mask as the backend's dropout under the same seed.
      const a = withDropoutSeed(seed, () => layer.apply(x, {training: true}) as tf.Tensor);
      const b = withDropoutSeed(seed, () => dropout(x, 0.5));
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    }
    tf.dispose([x, seed]);
  });

  it("lets the feature classifier's steps (dropout 0.1) be captured", async () => {
    if (!graphStepsEnabled()) return;
    expect(DEFAULT_FEATURE_CLASSIFIER_CONFIG.dropout).toBeGreaterThan(0);
    const model = buildFeatureClassifier(DEFAULT_FEATURE_CLASSIFIER_CONFIG, 4, 3);
    const warnings: string[] = [];
    const result = await train({
      model: trainableFromLayersModel(model),
      loss: classifierLoss(model),
      data: pointSource(blobs(64, 2), 16),
      steps: 6,
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings).toEqual([]);
    expect(result.graphSteps).toEqual({replayed: 3, eager: 3});
    model.dispose();
  });
});
