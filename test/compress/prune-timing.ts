import * as tf from '@tensorflow/tfjs';
import {encodeTexts} from '../../src/models/text-classifier/classifier.js';
import {asClassifierRun} from '../../src/models/text-classifier/classifier-run.js';
import {loadRun} from '../../src/run/load-run.js';

/** Fastest of `rounds` timings (the least disturbed by other processes) of `model.predict` over the encoded `texts` for each run, the runs timed in turn (interleaved). */
export async function predictSeconds(dirs: string[], texts: string[], rounds = 7): Promise<number[]> {
  const runs = await Promise.all(dirs.map(async (d) => asClassifierRun(await loadRun(d))));
  const {maxLen} = runs[0]!.config;
  const ids = tf.tensor2d(
    await encodeTexts(runs[0]!.tokenizer, texts, maxLen),
    [texts.length, maxLen],
    'int32',
  );
  const predict = (run: (typeof runs)[number]) => tf.dispose(run.model.predict(ids, {batchSize: 100}));
  for (const run of runs) predict(run); // warm-up
  const times = runs.map((): number[] => []);
  for (let i = 0; i < rounds; i++) {
    for (const [k, run] of runs.entries()) {
      const t0 = performance.now();
      predict(run);
      times[k]!.push((performance.now() - t0) / 1000);
    }
  }
  for (const run of runs) run.model.dispose();
  ids.dispose();
  return times.map((t) => Math.min(...t));
}
