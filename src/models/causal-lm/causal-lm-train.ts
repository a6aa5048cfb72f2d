import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {ConfigError} from '../../errors.js';
import {countParameters} from '../../layers/walk-layers.js';
import {
  checkRunFolderUsable,
  prepareRunFolder,
  RUN_FILES,
  type RunConfig,
  saveRunArtifacts,
} from '../../run/run-folder.js';
import {ByteTokenizer} from '../../tokenizer/byte-tokenizer.js';
import {loadTokenizer, type Tokenizer} from '../../tokenizer/tokenizer.js';
import {trainTokenizer} from '../../tokenizer/train-tokenizer.js';
import {accuracy, modelLosses, sparseCrossEntropy} from '../../train/losses.js';
import {onStepWithRoutingAlarm, routingMetrics} from '../../train/moe-monitor.js';
import {withSeededRandom} from '../../train/seeded-random.js';
import type {LossFn} from '../../train/train-options.js';
import {trainableFromLayersModel} from '../../train/trainable.js';
import {type TrainResult, train} from '../../train/trainer.js';
import {checkTokenizerVocab} from '../check-vocab.js';
import {loadModelConfig} from '../model-config.js';
import type {FinetuneData, FinetuneDataOptions, KindData, ReadDataOptions} from '../model-kind.js';
import {checkMoEConfig, OPTIONAL_CONFIG_KEYS} from '../moe-config.js';
import {engineOptions, type TrainRunOptions, type TrainRunReport, trainRunReport} from '../train-options.js';
import {
  activeParameters,
  buildCausalLM,
  CAUSAL_LM_PRESETS,
  type CausalLMConfig,
  DEFAULT_CAUSAL_LM_CONFIG,
} from './causal-lm.js';
import type {LanguageModelRun} from './causal-lm-run.js';
import {
  encodeDocuments,
  lmBatchSource,
  lmEngineData,
  lmTrainingSettings,
  readLMStreams,
  readTextDocuments,
  windowStarts,
} from './lm-data.js';

/** The language model's config from preset, file and flags; vocabulary from --vocab-size. */
export async function resolveCausalLMConfig(options: TrainRunOptions): Promise<CausalLMConfig> {
  const config = await loadModelConfig({
    optional: OPTIONAL_CONFIG_KEYS,
    family: 'causal-lm',
    defaults: DEFAULT_CAUSAL_LM_CONFIG,
    presets: CAUSAL_LM_PRESETS,
    preset: options.preset,
    configFile: options.configFile,
    overrides: {...options.overrides, vocabSize: options.vocabSize} as Partial<CausalLMConfig>,
  });
  return checkMoEConfig(config);
}

/** Next-token cross-entropy (+ MoE auxiliary losses in training) with next-token accuracy. */
export function languageModelLoss(model: tf.LayersModel): LossFn {
  return (batch, ctx) =>
    withSeededRandom(ctx.seed, () => {
      const logits = model.apply(batch.inputs, {training: ctx.training}) as tf.Tensor;
      const task = sparseCrossEntropy(logits, batch.targets);
      const aux = ctx.training ? modelLosses(model) : undefined;
      const total = aux ? tf.add(task, aux) : task;
      return {
        loss: total as tf.Scalar,
        metrics: {acc: accuracy(logits, batch.targets), ...(aux ? routingMetrics(model, aux) : {})},
      };
    });
}

/**
 * Trains a causal language model into the run folder `options.out` on a `.txt` file or the text
 * field of JSONL/CSV rows. Validation: `options.val`, else the last 10% of each document. Data,
 * config and tokenizer are checked before the folder is created.
 */
export async function trainLanguageModel(options: TrainRunOptions): Promise<TrainRunReport> {
  await checkRunFolderUsable(options.out, options);
  const config = await resolveCausalLMConfig(options);
  const length = config.contextLength;
  const {tokenizer, ...streams} = await readLMStreams(
    options,
    length,
    (trainDocs) => lmTokenizer(options, config, trainDocs),
    'give more text, or a shorter context (contextLength in --config)',
    options.onInfo,
  );
  const training = lmTrainingSettings(options);
  const runConfig: RunConfig = {
    task: 'lm',
    model: config,
    tokenizer: {kind: tokenizer.kind, vocabSize: tokenizer.vocabSize, file: options.tokenizer ?? null},
    data: {train: options.data, val: options.val ?? null, textField: options.textField ?? 'text'},
    training,
  };
  const model = withSeededRandom(training.seed, () => buildCausalLM(config, tokenizer.vocabSize));
  try {
    await prepareRunFolder(options.out, runConfig, options);
    if (!options.resume) await saveRunArtifacts(options.out, {tokenizer});
    const result = await train({
      ...engineOptions(options),
      ...lmEngineData(streams, length, training, options.patience),
      onStep: onStepWithRoutingAlarm(model, options),
      model: trainableFromLayersModel(model),
      loss: languageModelLoss(model),
    });
    await saveRunArtifacts(options.out, {model, tokenizer});
    const parameters = countParameters(model);
    if (config.ffn === 'moe') {
      options.onInfo?.(
        `MoE: ${activeParameters(config, parameters).toLocaleString('en-US')} of ${parameters.toLocaleString('en-US')} parameters active per token`,
      );
    }
    return lmRunReport(options.out, result, parameters, streams, length);
  } finally {
    model.dispose();
  }
}

/** What `train` and `distill` report of a finished language-model run: windows, perplexity. */
export function lmRunReport(
  out: string,
  result: TrainResult,
  parameters: number,
  streams: {train: Int32Array; val: Int32Array},
  length: number,
): TrainRunReport {
  const report = trainRunReport('lm', out, result, {
    parameters,
    trainExamples: windowStarts(streams.train.length, length).length,
    valExamples: windowStarts(streams.val.length, length).length,
  });
  return {...report, validation: report.validation && withPerplexity(report.validation)};
}

/** The run's tokenizer: --tokenizer FILE, the byte tokenizer, or byte-level BPE trained on the training text. */
async function lmTokenizer(
  options: TrainRunOptions,
  config: CausalLMConfig,
  trainDocs: readonly string[],
): Promise<Tokenizer> {
  const file = options.resume ? join(options.out, RUN_FILES.tokenizer) : options.tokenizer;
  if (file) {
    const tokenizer = await loadTokenizer(file);
    if (!options.resume) await checkTokenizerVocab(tokenizer, file, options);
    return tokenizer;
  }
  if (config.tokenizerKind === 'byte') return new ByteTokenizer();
  if (config.tokenizerKind !== 'bpe') {
    throw new ConfigError(
      `causal-lm: tokenizerKind must be byte or bpe, got ${String(config.tokenizerKind)}`,
    );
  }
  const tokenizer = await trainTokenizer({
    kind: 'bpe',
    vocabSize: config.vocabSize,
    texts: trainDocs.flatMap((d) => d.split(/\n\s*\n/)),
  });
  options.onInfo?.(`tokenizer: byte-level BPE, ${tokenizer.vocabSize} ids, trained on ${options.data}`);
  return tokenizer;
}

/** Validation metrics with `val_ppl` = exp(val_loss) added. */
export function withPerplexity(metrics: Record<string, number>): Record<string, number> {
  return metrics.val_loss === undefined ? metrics : {...metrics, val_ppl: Math.exp(metrics.val_loss)};
}

/** The text of `file` as windows of the run's context length, with its tokenizer. */
export async function readLanguageModelData(
  run: LanguageModelRun,
  file: string,
  options: ReadDataOptions,
): Promise<KindData> {
  const stream = await encodeDocuments(run.tokenizer, await readTextDocuments(file, run.textField));
  const {contextLength} = run.config;
  const source = lmBatchSource(stream, contextLength, options.batchSize, options.seed, options.shuffle);
  if (source.batchesPerEpoch === 0) {
    throw new ConfigError(`${file}: fewer tokens than one window of ${contextLength + 1}`);
  }
  return {source, examples: windowStarts(stream.length, contextLength).length};
}

/** Fine-tuning text as windows of the base's context length; validation from --val or each document's tail. */
export async function languageModelFinetuneData(
  run: LanguageModelRun,
  options: FinetuneDataOptions,
): Promise<FinetuneData> {
  if (options.newHead)
    throw new ConfigError('--new-head replaces a classifier head; a language model has none');
  const length = run.config.contextLength;
  const source = {...options, textField: options.textField ?? run.textField};
  const streams = await readLMStreams(source, length, () => run.tokenizer, 'give more text', options.onInfo);
  const valWindows = windowStarts(streams.val.length, length).length;
  const training = (run.runConfig.training ?? {}) as {batchSize?: number};
  const batchSize = options.batchSize ?? training.batchSize ?? 16;
  return {
    train: lmBatchSource(streams.train, length, batchSize, options.seed, true),
    val: valWindows > 0 ? lmBatchSource(streams.val, length, batchSize, options.seed, false) : undefined,
    trainExamples: windowStarts(streams.train.length, length).length,
    valExamples: valWindows,
  };
}
