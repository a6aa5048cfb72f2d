import {ConfigError, ModelError} from '../errors.js';
import {assertOutsideInputs} from '../fs/path-relation.js';
import type {DistillOptions, DistillReport} from '../models/distill-options.js';
import {refuseExportFolder} from '../models/export-folder.js';
import {openRun} from '../models/registry.js';
import {checkRunFolderUsable} from '../run/run-folder.js';
import {withRunLock} from '../run/run-lock.js';

/**
 * `distill`: trains a student of the teacher's kind into `options.out` on the teacher's outputs
 * (soft labels for classifiers, next-token distributions for language models) and the data's
 * labels, with the kit's training engine: same checkpoints, resume, schedules and progress as `train`.
 */
export async function distill(options: DistillOptions): Promise<DistillReport> {
  return withRunLock(options.out, options.onInfo, () => distillLocked(options));
}

async function distillLocked(options: DistillOptions): Promise<DistillReport> {
  const temperature = options.temperature ?? 2;
  const alpha = options.alpha ?? 0.5;
  if (!(temperature > 0)) throw new ConfigError(`--temperature must be > 0, got ${temperature}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ConfigError(`--alpha must be in [0, 1], got ${alpha}`);
  if (options.classWeights === 'balanced' || (options.weightField && options.weightField !== 'weight')) {
    throw new ConfigError(
      'distill takes sample weights from the `weight` field only, and no class weights',
      'drop --class-weights/--weight-field (the teacher’s soft labels already weigh the classes it learned)',
    );
  }
  const inputs = [options.teacher, options.data, options.val, options.tokenizer, options.configFile];
  await assertOutsideInputs(options.out, inputs, `--out ${options.out}`);
  await checkRunFolderUsable(options.out, options);
  await refuseExportFolder(options.teacher, 'distill', '--teacher');
  const {kind, run} = await openRun(options.teacher);
  try {
    if (!kind.distill) {
      throw new ModelError(
        `${options.teacher} is a ${kind.id} run: distill takes a text-classifier or language-model teacher`,
        'pass the run folder of a `train` run',
      );
    }
    return await kind.distill(run, {...options, temperature, alpha});
  } finally {
    run.model.dispose();
  }
}

/** Three lines: the run (steps, T, alpha, teacher cache), the teacher, the student with its share of the teacher. */
export function formatDistillReport(r: DistillReport): string {
  const metrics = (m?: Record<string, number>) =>
    Object.entries(m ?? {})
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join('  ') || 'no validation rows';
  return [
    `distilled in ${r.seconds.toFixed(1)}s: ${r.steps} steps, T ${r.temperature}, alpha ${r.alpha}, teacher cache ${r.teacher_cache} → ${r.out}`,
    `teacher ${r.teacher.parameters} parameters: ${metrics(r.teacher.validation)}`,
    `student ${r.parameters} parameters (${(100 * r.parameter_ratio).toFixed(1)}% of the teacher): ${metrics(r.validation)}`,
  ].join('\n');
}
