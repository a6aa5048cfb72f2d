import {RUN_FILES} from '../../run/run-folder.js';
import type {CausalLMMetadata} from '../export-metadata.js';
import type {ModelKind, ModelMetadata} from '../model-kind.js';
import {BatchDecoder} from './batch-decoder.js';
import {CachedDecoder} from './cached-decoder.js';
import {CAUSAL_LM_PRESET_SUMMARIES, DEFAULT_CAUSAL_LM_CONFIG} from './causal-lm.js';
import {evaluateLanguageModel, languageModelPerplexity} from './causal-lm-evaluate.js';
import {asLanguageModelRun, type LanguageModelRun} from './causal-lm-run.js';
import {
  languageModelFinetuneData,
  languageModelLoss,
  readLanguageModelData,
  trainLanguageModel,
  withPerplexity,
} from './causal-lm-train.js';
import {distillLanguageModel} from './distill-lm.js';
import {holdoutTail, readTextDocuments} from './lm-data.js';

/** Text → next-token logits: a small DeepSeek-style decoder (RMSNorm, RoPE or learned positions, SwiGLU or MoE). */
export const causalLMKind: ModelKind<LanguageModelRun> = {
  id: 'causal-lm',
  task: 'lm',
  summary: 'text → next-token logits: a DeepSeek-style decoder with SwiGLU or MoE blocks',
  trainFlags: '--task lm',
  presets: CAUSAL_LM_PRESET_SUMMARIES,
  owns: (config) => config.task === 'lm',
  trains: (task) => task === 'lm',
  train: trainLanguageModel,
  output: 'token-logits',
  requiredModelKeys: ['contextLength'],
  open: asLanguageModelRun,
  readData: readLanguageModelData,
  loss: languageModelLoss,
  evaluate: evaluateLanguageModel,
  metric: languageModelPerplexity,
  validationReport: withPerplexity,
  // A prompt is a few lines of text: the validation text's lines stand in for prompts.
  validationRows: async (run, {data, val}) => {
    const docs = val
      ? await readTextDocuments(val, run.textField)
      : holdoutTail(await readTextDocuments(data, run.textField)).val;
    const lines = docs.flatMap((d) => d.split('\n')).filter((l) => l.trim() !== '');
    return lines.map((line) => ({[run.textField]: line}));
  },
  metadata: (run): ModelMetadata => ({
    kind: 'causal-lm',
    task: 'lm',
    input: {name: 'ids', dtype: 'int32', shape: [null, null]},
    output: 'token-logits',
    contextLength: run.config.contextLength,
    vocabSize: run.tokenizer.vocabSize,
    specialTokens: {...run.tokenizer.special},
    tokenizer: {file: RUN_FILES.tokenizer, kind: run.tokenizer.kind},
    decoder: {
      numLayers: run.config.numLayers,
      positions: run.config.positions,
      tiedHead: run.config.tiedHead,
    },
    textField: run.textField,
  }),
  exportRunConfig: (meta) => {
    const m = meta as CausalLMMetadata;
    return {
      task: 'lm',
      model: {
        ...DEFAULT_CAUSAL_LM_CONFIG,
        ...m.decoder,
        contextLength: m.contextLength,
        vocabSize: m.vocabSize,
      },
      data: {textField: m.textField},
    };
  },
  finetuneData: languageModelFinetuneData,
  distill: (teacher, options) =>
    distillLanguageModel(options, teacher, {
      temperature: options.temperature ?? 2,
      alpha: options.alpha ?? 0.5,
    }),
  decoder: (run) => new CachedDecoder(run.model, run.config),
  batchDecoder: (run) => new BatchDecoder(run.model, run.config),
};
