import {RUN_FILES} from '../../run/run-folder.js';
import {classifierLoss} from '../classify/classifier-training.js';
import {holdout, readLabeledRows} from '../classify/labeled-data.js';
import type {TextClassifierMetadata} from '../export-metadata.js';
import type {ModelKind, ModelMetadata} from '../model-kind.js';
import {CLASSIFIER_PRESET_SUMMARIES, DEFAULT_CLASSIFIER_CONFIG} from './classifier.js';
import {textClassifierBaseline} from './classifier-baseline.js';
import {
  asClassifierRun,
  type ClassifierRun,
  classifyTextRows,
  evaluateTextClassifier,
  predictTexts,
  textClassifierAccuracy,
} from './classifier-run.js';
import {classifierFinetuneData, readClassifierData, trainClassifier} from './classifier-train.js';
import {distillClassifier} from './distill-classifier.js';

/** Text → label: token embedding, pre-norm blocks (or none), masked mean pooling, a dense layer over the labels. */
export const textClassifierKind: ModelKind<ClassifierRun> = {
  id: 'text-classifier',
  task: 'classify',
  summary:
    'text → label: token embedding, transformer blocks (or a bag of embeddings), masked mean pool, logits',
  trainFlags: '--task classify',
  presets: CLASSIFIER_PRESET_SUMMARIES,
  owns: (config) => config.task === 'classify' && config.features === undefined,
  trains: (task, options) => task === 'classify' && !options.features?.length,
  train: trainClassifier,
  output: 'class-logits',
  requiredModelKeys: ['maxLen'],
  open: asClassifierRun,
  readData: readClassifierData,
  loss: classifierLoss,
  evaluate: evaluateTextClassifier,
  metric: textClassifierAccuracy,
  validationRows: async (run, {data, val}) => {
    const fields = {textField: run.textField, labelField: run.labelField, onError: 'skip' as const};
    const rows = val ? await readLabeledRows(val, fields) : holdout(await readLabeledRows(data, fields)).val;
    return rows.map((r) => ({[run.textField]: r.text}));
  },
  metadata: (run): ModelMetadata => ({
    kind: 'text-classifier',
    task: 'classify',
    input: {name: 'ids', dtype: 'int32', shape: [null, run.config.maxLen]},
    output: 'class-logits',
    labels: [...run.labels],
    maxLen: run.config.maxLen,
    vocabSize: run.tokenizer.vocabSize,
    specialTokens: {...run.tokenizer.special},
    tokenizer: {file: RUN_FILES.tokenizer, kind: run.tokenizer.kind},
    textField: run.textField,
    labelField: run.labelField,
  }),
  exportRunConfig: (meta) => {
    const m = meta as TextClassifierMetadata;
    return {
      task: 'classify',
      model: {...DEFAULT_CLASSIFIER_CONFIG, maxLen: m.maxLen, vocabSize: m.vocabSize},
      data: {textField: m.textField, labelField: m.labelField},
    };
  },
  finetuneData: classifierFinetuneData,
  distill: distillClassifier,
  baseline: textClassifierBaseline,
  classify: classifyTextRows,
  predict: predictTexts,
};
