import {assertOutsideInputs} from '../fs/path-relation.js';
import type {Task} from '../models/model-kind.js';
import {kindToTrain} from '../models/registry.js';
import type {TrainRunOptions, TrainRunReport} from '../models/train-options.js';
import {withRunLock} from '../run/run-lock.js';
import {writeDriftReference} from './drift-reference.js';

/**
 * `train`: reads the data, builds the model of the kind the task and options ask for (a text
 * classifier, a numeric-feature classifier with `features`, a causal LM) and trains it into the run
 * folder `options.out`, which it locks (run-lock.ts) while it writes it, then saves the drift
 * reference `serve` compares traffic with.
 */
export async function trainRun(task: Task, options: TrainRunOptions): Promise<TrainRunReport> {
  const inputs = [options.data, options.val, options.tokenizer, options.configFile];
  await assertOutsideInputs(options.out, inputs, `--out ${options.out}`);
  return withRunLock(options.out, options.onInfo, async () => {
    const report = await kindToTrain(task, options).train(options);
    await writeDriftReference(options.out, options).catch((err: Error) =>
      options.onInfo?.(
        `warning: no drift reference saved (serve will say drift is unavailable): ${err.message}`,
      ),
    );
    return report;
  });
}

/** One line: what was trained, how long, parameters, final loss and validation metrics, where. */
export function formatTrainReport(r: TrainRunReport): string {
  const val = Object.entries(r.validation ?? {})
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
  return `trained ${r.task} in ${r.seconds.toFixed(1)}s: ${r.steps} steps, ${r.parameters} parameters, loss ${r.final_loss.toFixed(4)}${val ? `  ${val}` : ''} → ${r.out}`;
}
