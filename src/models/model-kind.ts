import type {Readable, Writable} from 'node:stream';
import type * as tf from '@tensorflow/tfjs';
import type {LoadedRun, RunConfig} from '../run/run-folder.js';
import type {SpecialTokenIds, Tokenizer} from '../tokenizer/tokenizer.js';
import type {BatchSource} from '../train/batch-source.js';
import type {GraphForward} from '../train/graph-forward.js';
import type {LossFn} from '../train/train-options.js';
import type {BatchDecoder} from './causal-lm/batch-decoder.js';
import type {CachedDecoder} from './causal-lm/cached-decoder.js';
import type {ClassificationMetrics} from './classify/classification-metrics.js';
import type {BaselineEvaluation} from './classify/tfidf-baseline.js';
import type {DistillOptions, DistillReport} from './distill-options.js';
import type {DecoderMetadata, ExportMetadata, TokenizerMetadata} from './export-metadata.js';
import type {TrainRunOptions, TrainRunReport} from './train-options.js';

/** The `task` a run's config.json records, and `train --task` takes. */
export type Task = 'classify' | 'lm';

/**
 * A run folder opened by its kind: the loaded model with what it needs to run (tokenizer, labels,
 * feature statistics), each kind adding its own typed fields. `openRun` (registry.ts) returns it
 * with the kind that opened it, so code asks `kind.evaluate(run, …)` instead of testing the task.
 */
export interface OpenRun {
  dir: string;
  /** config.json as written: task, model config, data fields, training settings. */
  runConfig: RunConfig;
  model: tf.LayersModel;
  tokenizer?: Tokenizer;
  labels?: string[];
}

/**
 * What an export (browser runtime, ONNX) must know to run the model without the kit: its kind, the
 * input it reads, that the output is logits, and how text or rows become that input. The browser
 * export adds the kit version and checks it as an ExportMetadata (export-metadata.ts).
 */
export interface ModelMetadata {
  kind: string;
  task: Task;
  /** The model's one input: its name, dtype and shape (null: any size). */
  input: {name: string; dtype: 'int32' | 'float32'; shape: (number | null)[]};
  /** The output is logits (apply softmax for probabilities): over the labels, or over the vocabulary at each position. */
  output: 'class-logits' | 'token-logits';
  labels?: string[];
  /** Text classifiers: tokens per text (cut, or padded at the end with `specialTokens.pad`). */
  maxLen?: number;
  /** Language models: the most tokens the model reads. */
  contextLength?: number;
  vocabSize?: number;
  specialTokens?: SpecialTokenIds;
  /** Numeric-feature classifiers: input columns in order, standardized as (x − mean) / std. */
  features?: {columns: string[]; mean: number[]; std: number[]};
  /** Text models: the tokenizer.json beside the model and the kind of tokenizer it is. */
  tokenizer?: TokenizerMetadata;
  /** Language models: what cached decoding needs of the layers (`block0..`, `pos`, `head`). */
  decoder?: DecoderMetadata;
  /** Row fields the run was trained with. */
  textField?: string;
  labelField?: string;
}

/** A data file read with a run's tokenizer and fields, as the trainer takes it. */
export interface KindData {
  source: BatchSource;
  examples: number;
}

export interface ReadDataOptions {
  batchSize: number;
  seed: number;
  shuffle: boolean;
}

/** The metric `--eval` reports before and after a change: accuracy (0..1) or perplexity. */
export type RunMetric = {accuracy: number} | {perplexity: number};

export interface EvaluateOptions {
  /** Run folder, as the report names it. */
  model: string;
  /** Labeled rows (classifiers) or text (.txt or rows, language models). */
  data: string;
  /** Field names; default those the run was trained with. */
  textField?: string;
  labelField?: string;
  /** Examples per forward pass. */
  batchSize?: number;
  /** Told once when forward passes cannot be captured as one TensorFlow function and run op by op. */
  onInfo?: (message: string) => void;
}

export type ClassifierEvaluation = ClassificationMetrics & {task: 'classify'; model: string; data: string};

export interface LanguageModelEvaluation {
  task: 'lm';
  model: string;
  data: string;
  /** Mean next-token cross-entropy in nats. */
  loss: number;
  perplexity: number;
  /** Total nats / ln 2 / UTF-8 bytes of the text: compares runs with different tokenizers. */
  bits_per_byte: number;
  /** Tokens scored and bytes of text. */
  tokens: number;
  bytes: number;
  /** Next-token accuracy. */
  accuracy: number;
}

/** `evaluate --baseline`: a simple model fitted on `train` and scored on `data`, beside the run's own scores. */
export interface BaselineOptions {
  /** Labeled rows to score. */
  data: string;
  /** Labeled rows to fit on; default the run's training file (config.json `data.train`). */
  train?: string;
  textField?: string;
  labelField?: string;
}

/** What `evaluate` reports. */
export type RunEvaluation = ClassifierEvaluation | LanguageModelEvaluation;

export interface PredictOptions {
  /** Rows to classify: a file or a stream (stdin). */
  input: string | Readable;
  /** Where to write the rows with their predictions: a file (written atomically) or a stream. */
  output: string | Writable;
  format?: string;
  outFormat?: string;
  textField?: string;
  /** Examples per forward pass. */
  batchSize?: number;
  /** Told the number of rows done so far. */
  onRows?: (rows: number) => void;
  /** Told once when forward passes cannot be captured as one TensorFlow function and run op by op. */
  onInfo?: (message: string) => void;
}

export interface PredictReport {
  rows: number;
  labels: string[];
}

/** What fine-tuning reads for a run: new data as batches of its task, and the head it may replace. */
export interface FinetuneData {
  train: BatchSource;
  val?: BatchSource;
  trainExamples: number;
  valExamples: number;
  /** Classifiers: the labels of the fine-tuned model (the base's, or the data's with a new head). */
  labels?: string[];
  /** The classifier head's layer name, when the kind has one. */
  head?: string;
}

export interface FinetuneDataOptions {
  data: string;
  val?: string;
  textField?: string;
  labelField?: string;
  /** Replace the classifier head with one over the data's labels. */
  newHead?: boolean;
  batchSize?: number;
  seed: number;
  onInfo?: (message: string) => void;
}

/**
 * One kind of model (text classifier, numeric-feature classifier, causal LM): how it trains into a
 * run folder, opens one, reads data for it, scores, predicts or decodes, and what an export needs.
 * Kinds are registered once (src/models/registry.ts) and chosen once, from the run's config.json or
 * from `train`'s task and options; a new kind is a folder with one of these and a registration line.
 * Optional members are capabilities some kinds have: classifiers `classify`/`predict`, language
 * models `decoder`.
 */
export interface ModelKind<R extends OpenRun = OpenRun> {
  /** Registry name: `text-classifier`, `feature-classifier`, `causal-lm`. */
  readonly id: string;
  readonly task: Task;
  /** One line for help and reports. */
  readonly summary: string;
  /** The `train` flags that build this kind (`--task classify --features COLS`). */
  readonly trainFlags: string;
  /** Preset names with one line each (`train --preset`). */
  readonly presets: Readonly<Record<string, string>>;
  /** What the model outputs: `[batch, labels]` class logits or `[batch, positions, vocabulary]` token logits. */
  readonly output: ModelMetadata['output'];
  /** Keys config.json's `model` must hold for `open` (checked when a run is opened). */
  readonly requiredModelKeys: readonly string[];
  /** True when `config` (a run's config.json) was written by this kind. */
  owns(config: RunConfig): boolean;
  /** True when `train --task <task>` with these options builds this kind. */
  trains(task: Task, options: TrainRunOptions): boolean;
  /** Reads the data, builds the model and trains it into the run folder `options.out`. */
  train(options: TrainRunOptions): Promise<TrainRunReport>;
  /** The typed view of a loaded run; a run missing a file the kind needs is a ModelError saying so. */
  open(run: LoadedRun): R;
  /** `file` as batches of this kind with the run's tokenizer, fields and labels (prune's fine-tuning, expert usage). */
  readData(run: R, file: string, options: ReadDataOptions): Promise<KindData>;
  /** The training loss (+ layer losses such as MoE balance in training) with its metrics. */
  loss(model: tf.LayersModel): LossFn;
  /** The metrics `evaluate` reports on a data file. */
  evaluate(run: R, options: EvaluateOptions): Promise<RunEvaluation>;
  /** `model` (the run's own or a changed copy: pruned, quantized, exported) scored on `data`. */
  metric(run: R, model: tf.LayersModel, data: string): Promise<RunMetric>;
  /** Validation metrics as reports show them (language models add `val_ppl`); default as they are. */
  validationReport?(metrics: Record<string, number>): Record<string, number>;
  /**
   * The rows `train` validated on (`val`, or the holdout it made of `data`) as objects with the run's
   * fields (text, or feature columns), for the drift reference a server compares traffic with.
   */
  validationRows?(run: R, files: {data: string; val?: string}): Promise<Record<string, unknown>[]>;
  /** Input, output and preprocessing, for exports and runtimes. */
  metadata(run: R): ModelMetadata;
  /**
   * The run config an export folder stands for, from the metadata this kind wrote into it: what
   * `open` reads (task, the model config's sizes, fields, feature statistics), so predict, generate
   * and evaluate take an export as they take a run (export-folder.ts).
   */
  exportRunConfig(metadata: ExportMetadata): RunConfig;
  /** Fine-tuning data for the run; absent where the kind cannot be fine-tuned. */
  finetuneData?(run: R, options: FinetuneDataOptions): Promise<FinetuneData>;
  /** Trains a student of this kind on the teacher `run`'s outputs. */
  distill?(teacher: R, options: DistillOptions): Promise<DistillReport>;
  /** Text classifiers: TF-IDF + logistic regression fitted and scored as the options say (`evaluate --baseline`). */
  baseline?(run: R, options: BaselineOptions): Promise<BaselineEvaluation>;
  /** Classifiers: class probabilities [rows × labels] of rows (objects with the run's text field or feature columns). */
  classify?(
    run: R,
    rows: readonly Record<string, unknown>[],
    batchSize?: number,
    /** A captured forward pass of the run's model that full batches may run through (serving keeps one). */
    forward?: GraphForward,
  ): Promise<Float32Array>;
  /** Classifiers: streams rows in, the same rows out with `label` and `probabilities`. */
  predict?(run: R, options: PredictOptions): Promise<PredictReport>;
  /** Language models: a step-wise decoder with its own KV caches (one per sequence). */
  decoder?(run: R): CachedDecoder;
  /** Language models: many sequences decoded in one batched pass per step, joining and leaving at any step (serving). */
  batchDecoder?(run: R): BatchDecoder;
}
