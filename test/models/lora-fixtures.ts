import * as tf from '@tensorflow/tfjs';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {LoRADense} from '../../src/layers/lora-dense.js';
import {walkLayers} from '../../src/models/lora-model.js';
import {rand} from '../layers/layer-test-utils.js';

/** input [4, 8] → two decoder blocks → Dense head: the shape of a small LM body. */
export function tinyTransformer(dModel = 8): tf.LayersModel {
  const input = tf.input({shape: [4, dModel]});
  let h = input;
  for (let i = 0; i < 2; i++) {
    h = new DecoderBlock({name: `block${i}`, dModel, numHeads: 2, ffnHidden: 12}).apply(
      h,
    ) as tf.SymbolicTensor;
  }
  const out = tf.layers.dense({units: 5, name: 'head'}).apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: out, name: 'tiny'});
}

/** Sets every LoRA B to random values so adapted ≠ base. */
export function perturbAdapters(model: tf.LayersModel): void {
  for (const {layer} of walkLayers(model)) {
    if (!(layer instanceof LoRADense)) continue;
    const [a, b] = layer.getAdapterWeights();
    const newB = rand(b!.shape, 5);
    layer.setAdapterWeights([a!, newB]);
    tf.dispose([a!, b!, newB]);
  }
}
