import * as tf from '@tensorflow/tfjs';
import {DecoderBlock} from '../../src/layers/decoder-block.js';
import {TokenEmbedding} from '../../src/layers/token-embedding.js';
import {walkLayers} from '../../src/layers/walk-layers.js';
import {isLoRALayer} from '../../src/lora/lora-model.js';
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
    if (!isLoRALayer(layer)) continue;
    const [a, b] = layer.getAdapterWeights();
    const newB = rand(b!.shape, 5);
    layer.setAdapterWeights([a!, newB]);
    tf.dispose([a!, b!, newB]);
  }
}

/** ids [3] → tfjs Embedding or TokenEmbedding 'tok' → Dense 'head' (vocab 9, width 4). */
export function tinyEmbeddingModel(kind: 'embedding' | 'token'): tf.LayersModel {
  const input = tf.input({shape: [3], dtype: 'int32'});
  const embed =
    kind === 'token'
      ? new TokenEmbedding({vocabSize: 9, dModel: 4, name: 'tok', initStd: 0.5})
      : tf.layers.embedding({inputDim: 9, outputDim: 4, name: 'tok'});
  const h = embed.apply(input) as tf.SymbolicTensor;
  return tf.model({
    inputs: input,
    outputs: tf.layers.dense({units: 2, name: 'head'}).apply(h) as tf.SymbolicTensor,
  });
}
