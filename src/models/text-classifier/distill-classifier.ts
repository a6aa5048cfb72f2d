import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {countParameters} from '../../layers/walk-layers.js';
import {prepareRunFolder, RUN_FILES, type RunConfig, saveRunArtifacts} from '../../run/run-folder.js';
import {loadTokenizer, type Tokenizer} from '../../tokenizer/tokenizer.js';
import {trainTokenizer} from '../../tokenizer/train-tokenizer.js';
import {distillationLoss} from '../../train/distill-loss.js';
import {accuracy, modelLosses} from '../../train/losses.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {type LossFn, train} from '../../train/trainer.js';
import {classifierLoss, classifierReport} from '../classify/classifier-training.js';
import {checkKnownLabels, type LabeledRow, readLabeledRows} from '../classify/labeled-data.js';
import type {DistillOptions, DistillReport} from '../distill-options.js';
import {loadModelConfig} from '../model-config.js';
import {checkMoEConfig, OPTIONAL_CONFIG_KEYS} from '../moe-config.js';
import {engineOptions} from '../train-options.js';
import {
  buildClassifier,
  CLASSIFIER_PRESETS,
  type ClassifierConfig,
  classifyTexts,
  DEFAULT_CLASSIFIER_CONFIG,
} from './classifier.js';
import type {ClassifierRun} from './classifier-run.js';
import {batchSource, encodeRows} from './classifier-train.js';
import {
  distillBatchSource,
  encodeDistillRows,
  gatherLogits,
  holdoutLabelled,
  readDistillRows,
} from './distill-data.js';
import {cachedTeacherLogits, teacherLogits} from './teacher-cache.js';

/** The student's config: --preset/--config over the defaults, else the teacher's; flags last. */
async function studentConfig(options: DistillOptions, teacher: ClassifierRun): Promise<ClassifierConfig> {
  const fromScratch = options.preset !== undefined || options.configFile !== undefined;
  const config = await loadModelConfig({
    optional: OPTIONAL_CONFIG_KEYS,
    family: 'classifier',
    defaults: fromScratch ? DEFAULT_CLASSIFIER_CONFIG : {...DEFAULT_CLASSIFIER_CONFIG, ...teacher.config},
    presets: CLASSIFIER_PRESETS,
    preset: options.preset,
    configFile: options.configFile,
    overrides: {
      ...options.overrides,
      ...(options.vocabSize !== undefined ? {vocabSize: options.vocabSize} : {}),
    } as Partial<ClassifierConfig>,
  });
  return checkMoEConfig(config);
}

/**
 * The student's tokenizer. Teacher logits are per example, so a classifier student may read any
 * tokenizer: `--tokenizer`, else the teacher's when the student asks for the same kind and
 * vocabulary size, else one trained on the distillation texts (read back from the run on resume).
 */
async function studentTokenizer(
  options: DistillOptions,
  config: ClassifierConfig,
  teacher: ClassifierRun,
  texts: string[],
): Promise<{tokenizer: Tokenizer; source: 'teacher' | 'own'}> {
  if (options.tokenizer) return {tokenizer: await loadTokenizer(options.tokenizer), source: 'own'};
  if (
    config.tokenizerKind === teacher.config.tokenizerKind &&
    config.vocabSize === teacher.config.vocabSize
  ) {
    return {tokenizer: teacher.tokenizer, source: 'teacher'};
  }
  if (options.resume)
    return {tokenizer: await loadTokenizer(join(options.out, RUN_FILES.tokenizer)), source: 'own'};
  const tokenizer = await trainTokenizer({kind: config.tokenizerKind, vocabSize: config.vocabSize, texts});
  options.onInfo?.(
    `student tokenizer: ${config.tokenizerKind}, ${tokenizer.vocabSize} ids, trained on ${texts.length} texts`,
  );
  return {tokenizer, source: 'own'};
}

/** Student loss: distillation on training batches (inputs [ids, teacher logits, label mask]), CE on validation. */
function distillLoss(student: tf.LayersModel, temperature: number, alpha: number): LossFn {
  const plain = classifierLoss(student);
  return (batch, ctx) => {
    if (!Array.isArray(batch.inputs)) return plain(batch, ctx);
    const [ids, teacher, labelMask] = batch.inputs as [tf.Tensor, tf.Tensor, tf.Tensor];
    return withSeededRandom(ctx.seed, () => {
      const logits = student.apply(ids, {training: ctx.training}) as tf.Tensor;
      const task = distillationLoss(logits, teacher, batch.targets, {
        temperature,
        alpha,
        weights: batch.weights,
        labelMask,
      });
      return {
        loss: tf.add(task, modelLosses(student)) as tf.Scalar,
        metrics: {
          acc: accuracy(logits, batch.targets, labelMask),
          agree: accuracy(logits, tf.argMax(teacher, -1)),
        },
      };
    });
  };
}

/** The teacher's loss and accuracy on the validation rows. */
async function teacherValidation(teacher: ClassifierRun, rows: readonly LabeledRow[]) {
  if (rows.length === 0) return undefined;
  const k = teacher.labels.length;
  const probs = await classifyTexts(
    teacher,
    rows.map((r) => r.text),
  );
  const index = new Map(teacher.labels.map((l, i) => [l, i]));
  let loss = 0;
  let hits = 0;
  rows.forEach((r, i) => {
    const c = index.get(r.label)!;
    const row = probs.subarray(i * k, (i + 1) * k);
    loss -= Math.log(Math.max(row[c]!, 1e-12));
    if (row.every((p) => p <= row[c]!)) hits++;
  });
  return {val_loss: loss / rows.length, val_acc: hits / rows.length};
}

/**
 * Trains a student classifier into `options.out` on the teacher's soft labels (and the data's labels)
 * with the kit's training engine: same checkpoints, resume, schedules and progress as `train`.
 */
export async function distillClassifier(
  teacher: ClassifierRun,
  options: DistillOptions,
): Promise<DistillReport> {
  const temperature = options.temperature ?? 2;
  const alpha = options.alpha ?? 0.5;
  let student: tf.LayersModel | undefined;
  try {
    const config = await studentConfig(options, teacher);
    const seed = options.seed ?? 42;
    const fields = {textField: options.textField, labelField: options.labelField};
    const all = await readDistillRows(options.data, teacher.labels, {
      ...fields,
      onError: options.onError,
      onSkip: (e) => options.onInfo?.(`skipped: ${e.message}`),
    });
    let trainRows = all;
    let valRows: LabeledRow[] = [];
    if (options.val) {
      valRows = await readLabeledRows(options.val, fields);
      checkKnownLabels(valRows, teacher.labels, options.val);
    } else {
      ({train: trainRows, val: valRows} = holdoutLabelled(all));
      options.onInfo?.(
        `validation: ${valRows.length} labelled rows held out of ${options.data} (10%, by text hash)`,
      );
    }
    const {tokenizer, source} = await studentTokenizer(
      options,
      config,
      teacher,
      trainRows.map((r) => r.text),
    );
    if (tokenizer.special.pad === undefined) {
      throw new ConfigError(
        'the student tokenizer has no [PAD] token',
        'the classifier pads texts to maxLen',
      );
    }
    const batchSize = options.batchSize ?? 32;
    const runConfig: RunConfig = {
      task: 'classify',
      model: config,
      labels: teacher.labels,
      tokenizer: {
        kind: tokenizer.kind,
        vocabSize: tokenizer.vocabSize,
        file: options.tokenizer ?? (source === 'teacher' ? join(options.teacher, RUN_FILES.tokenizer) : null),
      },
      data: {
        train: options.data,
        val: options.val ?? null,
        textField: options.textField ?? 'text',
        labelField: options.labelField ?? 'label',
      },
      training: {
        batchSize,
        lr: options.lr ?? 1e-3,
        seed,
        weightDecay: options.weightDecay ?? 0.01,
        clipNorm: options.clipNorm ?? 1,
      },
      distill: {teacher: options.teacher, temperature, alpha},
    };
    const trainData = await encodeDistillRows(
      trainRows,
      teacher.labels,
      {tokenizer, maxLen: config.maxLen},
      {tokenizer: teacher.tokenizer, maxLen: teacher.config.maxLen},
    );
    const valData = await encodeRows(valRows, teacher.labels, tokenizer, config.maxLen);
    const teacherVal = await teacherValidation(teacher, valRows);
    student = withSeededRandom(seed, () =>
      buildClassifier(config, tokenizer.vocabSize, teacher.labels.length, tokenizer.special.pad),
    );
    await prepareRunFolder(options.out, runConfig, options);
    if (!options.resume) await saveRunArtifacts(options.out, {tokenizer, labels: teacher.labels});
    let cache: DistillReport['teacher_cache'] = 'off';
    let logitsOf = (rows: number[]) => teacherLogits(teacher, trainData.teacherIds, rows);
    if (options.cacheTeacher) {
      const cached = await cachedTeacherLogits(options.out, teacher, trainData.teacherIds, trainData.n);
      cache = cached.reused ? 'reused' : 'computed';
      logitsOf = gatherLogits(cached.logits, teacher.labels.length);
      options.onInfo?.(
        `teacher logits: ${cached.reused ? 'read from' : 'computed into'} the run folder cache`,
      );
    }
    const result = await train({
      ...engineOptions(options),
      model: trainableFromLayersModel(student),
      loss: distillLoss(student, temperature, alpha),
      data: distillBatchSource(trainData, logitsOf, batchSize, seed),
      validation: valData.n > 0 ? batchSource(valData, config.maxLen, batchSize, seed, false) : undefined,
      lr: options.lr,
      optimizer: {weightDecay: options.weightDecay ?? 0.01},
      earlyStopping:
        options.patience && valData.n > 0 ? {metric: 'val_loss', patience: options.patience} : undefined,
    });
    await saveRunArtifacts(options.out, {model: student, tokenizer, labels: teacher.labels});
    const parameters = countParameters(student);
    const teacherParameters = countParameters(teacher.model);
    return {
      ...classifierReport(options.out, result, student, trainData.n, valData.n),
      teacher: {dir: options.teacher, parameters: teacherParameters, validation: teacherVal},
      parameter_ratio: parameters / teacherParameters,
      temperature,
      alpha,
      unlabeled_examples: trainRows.filter((r) => r.label === undefined).length,
      tokenizer_source: source,
      teacher_cache: cache,
    };
  } finally {
    student?.dispose();
  }
}
