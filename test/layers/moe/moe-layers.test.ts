import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../../src/backend/backend.js';
import {DecoderBlock} from '../../../src/layers/decoder-block.js';
import {moeLayers, routingStatsOf} from '../../../src/layers/moe/moe-layers.js';
import {MoE} from '../../../src/layers/moe.js';
import {rand} from '../layer-test-utils.js';

beforeAll(async () => {
  await initBackend();
});

describe('MoE layers inside models', () => {
  it('are found inside decoder blocks, and their aux losses reach fit', async () => {
    const input = tf.input({shape: [6, 8]});
    const block = new DecoderBlock({
      dModel: 8,
      numHeads: 2,
      ffn: 'moe',
      moe: {numExperts: 4, topK: 2, expertHidden: 4, auxLossCoef: 1, zLossCoef: 0},
    });
    const top = new MoE({numExperts: 2, topK: 1, expertHidden: 4, auxLossCoef: 0, zLossCoef: 0});
    const output = top.apply(block.apply(input)) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: output});
    const found = moeLayers(model);
    expect(found).toHaveLength(2);
    expect(found[1]).toBe(top);

    const x = rand([2, 6, 8], 1);
    tf.dispose(model.predict(x) as tf.Tensor);
    expect(Object.keys(routingStatsOf(model)).sort()).toEqual([found[0]!.name, top.name].sort());

    model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
    const y = tf.zerosLike(x);
    const mse = model.evaluate(x, y) as tf.Scalar;
    const trained = (await model.trainOnBatch(x, y)) as number;
    expect(trained - mse.dataSync()[0]!).toBeGreaterThan(0.99); // the block's Switch loss, >= 1 at α = 1
    tf.dispose([x, y, mse]);
    model.dispose();
  });
});
