import {readFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {ROOT} from '../helpers/cli.js';

/**
 * A quick real classifier for compression bars: binary bag of words over the fixture IMDB reviews
 * (the `vocab` most frequent words of the training split) → Dense(hidden, relu) → Dense(2), trained
 * a few epochs with tfjs's fit. Its first kernel [vocab, hidden] holds nearly all the weights, as
 * an embedding table does in the kit's transformer classifier.
 */
export interface ImdbBow {
  model: tf.LayersModel;
  /** Test split features [rows, vocab] and labels (1 = pos). */
  xTest: tf.Tensor2D;
  yTest: Int32Array;
  dispose(): void;
}

const words = (text: string) =>
  text
    .toLowerCase()
    .replace(/<br\s*\/?>/g, ' ')
    .match(/[a-z0-9']+/g) ?? [];

function readRows(file: string): {text: string; label: string}[] {
  return readFileSync(`${ROOT}/fixtures/imdb/${file}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

export async function trainImdbBow(
  options: {vocab?: number; hidden?: number; epochs?: number} = {},
): Promise<ImdbBow> {
  const vocabSize = options.vocab ?? 4000;
  const train = readRows('reviews.jsonl');
  const test = readRows('test.jsonl');
  const df = new Map<string, number>();
  for (const r of train) for (const w of new Set(words(r.text))) df.set(w, (df.get(w) ?? 0) + 1);
  const vocab = new Map(
    [...df.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, vocabSize)
      .map(([w], i) => [w, i]),
  );
  const featurize = (rows: {text: string}[]) => {
    const x = new Float32Array(rows.length * vocabSize);
    rows.forEach((r, i) => {
      for (const w of words(r.text)) {
        const j = vocab.get(w);
        if (j !== undefined) x[i * vocabSize + j] = 1;
      }
    });
    return tf.tensor2d(x, [rows.length, vocabSize]);
  };
  const labelOf = (rows: {label: string}[]) => Int32Array.from(rows, (r) => (r.label === 'pos' ? 1 : 0));
  const input = tf.input({shape: [vocabSize]});
  const hidden = tf.layers
    .dense({
      units: options.hidden ?? 64,
      activation: 'relu',
      name: 'hidden',
      kernelInitializer: tf.initializers.glorotUniform({seed: 1}),
    })
    .apply(input) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({units: 2, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({seed: 2})})
    .apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({inputs: input, outputs: logits});
  model.compile({optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy});
  const xTrain = featurize(train);
  const yTrain = tf.oneHot(tf.tensor1d(labelOf(train), 'int32'), 2);
  await model.fit(xTrain, yTrain, {epochs: options.epochs ?? 4, batchSize: 64, shuffle: false, verbose: 0});
  tf.dispose([xTrain, yTrain]);
  const xTest = featurize(test);
  return {
    model,
    xTest,
    yTest: labelOf(test),
    dispose: () => tf.dispose([model, xTest] as tf.TensorContainer[]),
  };
}

/** Accuracy in percent of `model` on the test split. */
export function accuracyPercent(model: tf.LayersModel, x: tf.Tensor2D, y: Int32Array): number {
  const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).dataSync());
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return (100 * correct) / y.length;
}
