import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {countParameters} from '../../layers/walk-layers.js';
import {prepareRunFolder, type RunConfig, saveRunArtifacts} from '../../run/run-folder.js';
import {disposeBatch} from '../../train/batch-source.js';
import {distillationLoss} from '../../train/distill-loss.js';
import {accuracy, modelLosses, sparseCrossEntropy} from '../../train/losses.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {type LossFn, train} from '../../train/trainer.js';
import type {DistillOptions, DistillReport} from '../distill-options.js';
import {loadModelConfig} from '../model-config.js';
import {checkMoEConfig, OPTIONAL_CONFIG_KEYS} from '../moe-config.js';
import {engineOptions} from '../train-options.js';
import {
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from './causal-lm.js';
import type {LanguageModelRun} from './causal-lm-run.js';
import {languageModelLoss, lmRunReport} from './causal-lm-train.js';
import {lmBatchSource, lmEngineData, lmTrainingSettings, readLMStreams} from './lm-data.js';

/**
 * The student LM's config: --preset/--config over the defaults, else the teacher's; flags last.
 * The student reads the teacher's tokenizer: next-token distributions are compared id by id, so
 * the vocabularies must be the same, and its windows must fit the teacher's context.
 */
async function studentLMConfig(options: DistillOptions, teacher: LanguageModelRun): Promise<CausalLMConfig> {
  const fromScratch = options.preset !== undefined || options.configFile !== undefined;
  const config = await loadModelConfig({
    optional: OPTIONAL_CONFIG_KEYS,
    family: 'causal-lm',
    defaults: fromScratch ? DEFAULT_CAUSAL_LM_CONFIG : {...DEFAULT_CAUSAL_LM_CONFIG, ...teacher.config},
    presets: CAUSAL_LM_PRESETS,
    preset: options.preset,
    configFile: options.configFile,
    // --max-len is the window length of a language model.
    overrides: {
      ...options.overrides,
      maxLen: undefined,
      contextLength: options.overrides?.maxLen,
    } as Partial<CausalLMConfig>,
  });
  checkMoEConfig(config);
  const vocab = teacher.tokenizer.vocabSize;
  if (options.tokenizer || (options.vocabSize !== undefined && options.vocabSize !== vocab)) {
    throw new ConfigError(
      `a language-model student must read the teacher's tokenizer (${teacher.tokenizer.kind}, ${vocab} ids)`,
      'drop --tokenizer/--vocab-size: distillation compares next-token distributions id by id',
    );
  }
  if (config.contextLength > teacher.config.contextLength) {
    throw new ConfigError(
      `student contextLength ${config.contextLength} is longer than the teacher's ${teacher.config.contextLength}`,
      `the teacher scores the student's windows: use --max-len ≤ ${teacher.config.contextLength}`,
    );
  }
  return {...config, tokenizerKind: teacher.config.tokenizerKind, vocabSize: vocab};
}

/** Distillation on next-token distributions in training ([b, t, V] logits), plain next-token CE on validation. */
function lmDistillLoss(
  student: tf.LayersModel,
  teacher: tf.LayersModel,
  temperature: number,
  alpha: number,
): LossFn {
  const plain = languageModelLoss(student);
  return (batch, ctx) => {
    if (!ctx.training) return plain(batch, ctx);
    return withSeededRandom(ctx.seed, () => {
      const logits = student.apply(batch.inputs, {training: true}) as tf.Tensor;
      const soft = teacher.apply(batch.inputs, {training: false}) as tf.Tensor;
      const task = distillationLoss(logits, soft, batch.targets, {temperature, alpha});
      return {
        loss: tf.add(task, modelLosses(student)) as tf.Scalar,
        metrics: {acc: accuracy(logits, batch.targets), agree: accuracy(logits, tf.argMax(soft, -1))},
      };
    });
  };
}

/** The teacher's next-token loss, accuracy and perplexity on the validation windows. */
async function teacherLMValidation(teacher: tf.LayersModel, stream: Int32Array, length: number) {
  const source = lmBatchSource(stream, length, 16, 0, false);
  if (source.batchesPerEpoch === 0) return undefined;
  let [loss, acc, n] = [0, 0, 0];
  for (let i = 0; i < source.batchesPerEpoch; i++) {
    const batch = await source.batch(0, i);
    const [l, a] = tf.tidy(() => {
      const logits = teacher.apply(batch.inputs, {training: false}) as tf.Tensor;
      return [
        sparseCrossEntropy(logits, batch.targets).dataSync()[0]!,
        accuracy(logits, batch.targets).dataSync()[0]!,
      ];
    });
    loss += l * batch.size;
    acc += a * batch.size;
    n += batch.size;
    disposeBatch(batch);
  }
  return {val_loss: loss / n, val_acc: acc / n, val_ppl: Math.exp(loss / n)};
}

/**
 * Distills a causal-LM teacher into a student LM on `options.data` (text), with the kit's training
 * engine. Teacher logits are computed per batch: a cache of [windows, t, vocabulary] floats would
 * outgrow the data many times over, so `cacheTeacher` is refused.
 */
export async function distillLanguageModel(
  options: DistillOptions,
  teacher: LanguageModelRun,
  settings: {temperature: number; alpha: number},
): Promise<DistillReport> {
  if (options.cacheTeacher) {
    throw new ConfigError(
      '--cache-teacher is for classifier teachers: a language model’s logits are a vocabulary per token',
      'drop --cache-teacher; the teacher runs on each batch',
    );
  }
  const config = await studentLMConfig(options, teacher);
  const length = config.contextLength;
  const streams = await readLMStreams(
    options,
    length,
    () => teacher.tokenizer,
    'give more text, or a shorter context (--max-len)',
  );
  const training = lmTrainingSettings(options);
  const runConfig: RunConfig = {
    task: 'lm',
    model: config,
    tokenizer: {kind: teacher.tokenizer.kind, vocabSize: teacher.tokenizer.vocabSize, file: null},
    data: {train: options.data, val: options.val ?? null, textField: options.textField ?? 'text'},
    training,
    distill: {teacher: options.teacher, ...settings},
  };
  const teacherVal = await teacherLMValidation(teacher.model, streams.val, length);
  const student = withSeededRandom(training.seed, () => buildCausalLM(config, teacher.tokenizer.vocabSize));
  try {
    await prepareRunFolder(options.out, runConfig, options);
    if (!options.resume) await saveRunArtifacts(options.out, {tokenizer: teacher.tokenizer});
    const result = await train({
      ...engineOptions(options),
      ...lmEngineData(streams, length, training, options.patience),
      model: trainableFromLayersModel(student),
      loss: lmDistillLoss(student, teacher.model, settings.temperature, settings.alpha),
    });
    await saveRunArtifacts(options.out, {model: student, tokenizer: teacher.tokenizer});
    const parameters = countParameters(student);
    const teacherParameters = countParameters(teacher.model);
    return {
      ...lmRunReport(options.out, result, parameters, streams, length),
      teacher: {dir: options.teacher, parameters: teacherParameters, validation: teacherVal},
      parameter_ratio: parameters / teacherParameters,
      ...settings,
      unlabeled_examples: 0,
      tokenizer_source: 'teacher',
      teacher_cache: 'off',
    };
  } finally {
    student.dispose();
  }
}
