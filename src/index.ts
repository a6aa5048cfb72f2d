// deepseek-kit's library API: everything a command does can be done from here, with types.
export * from './backend/backend.js';
export * from './backend/info.js';
export * from './backend/probe.js';
export * from './backend/system.js';
export * from './compress/export.js';
export * from './compress/export-run.js';
export * from './compress/format-report.js';
export * from './compress/model-folder.js';
export * from './compress/prune.js';
export * from './compress/prune-experts.js';
export * from './compress/prune-finetune.js';
export * from './compress/prune-heads.js';
export * from './compress/prune-magnitude.js';
export * from './compress/prune-rebuild.js';
export * from './compress/prune-report.js';
export * from './compress/prune-schedule.js';
export * from './compress/prune-structured.js';
export * from './compress/prune-structures.js';
export * from './compress/prune-units.js';
export * from './compress/qat.js';
export * from './compress/quantize.js';
export * from './compress/quantize-model.js';
export * from './compress/quantize-run.js';
export * from './compress/run-metric.js';
export * from './compress/weight-codec.js';
export {sharedWordNet, WordNet, type WordNetPos} from './data/augment/wordnet.js';
export * from './data/augment.js';
export * from './data/balance.js';
export * from './data/clean.js';
export * from './data/clean-model-check.js';
export * from './data/clean-model-scorers.js';
export * from './data/cleaner.js';
export {CharShingler, charShingleJaccard} from './data/dedup/char-shingles.js';
export * from './data/dedup/cluster-log.js';
export * from './data/dedup/dedup-step.js';
export * from './data/dedup/exact-dedup.js';
export {hash64, hash64Hex} from './data/dedup/hash64.js';
export * from './data/dedup/lsh-params.js';
export * from './data/dedup/near-dedup.js';
export * from './data/dedup/normalize.js';
export * from './data/dedup/one-permutation.js';
export * from './data/doc.js';
export {boilerplate, loremIpsum} from './data/filters/boilerplate.js';
export {type C4Config, c4, c4Lines, c4RemoveLines} from './data/filters/c4.js';
export {mojibake, nonText, notEmpty, symbolRatio} from './data/filters/default-rules.js';
export * from './data/filters/filter-config.js';
export {type FineWebConfig, fineweb} from './data/filters/fineweb.js';
export {encodedBlob, keyboardMash, randomSymbols} from './data/filters/garbled-text.js';
export {type GopherQualityConfig, gopherQuality} from './data/filters/gopher-quality.js';
export {type GopherRepetitionConfig, gopherRepetition} from './data/filters/gopher-repetition.js';
export {repeatedLines} from './data/filters/repeated-lines.js';
export {stripHtml} from './data/filters/strip-html.js';
export {markupSoup, numberGrid, urlList} from './data/filters/structured-junk.js';
export {profileOf, profileText, type TextProfile} from './data/filters/text-profile.js';
export {wordSalad} from './data/filters/word-salad.js';
export {countWords} from './data/filters/words.js';
export * from './data/io/format.js';
export * from './data/io/read-docs.js';
export * from './data/io/write-docs.js';
export * from './data/label-distribution.js';
export * from './data/run-balance.js';
export * from './data/run-data-step.js';
export * from './data/run-split.js';
export * from './data/split.js';
export * from './data/stats.js';
export * from './errors.js';
export * from './layers/attention.js';
export {CompositeLayer, hasSublayers} from './layers/composite-layer.js';
export * from './layers/decoder-block.js';
export * from './layers/kv-cache.js';
export * from './layers/learned-positions.js';
export * from './layers/lora-dense.js';
export * from './layers/lora-embedding.js';
export * from './layers/moe/dispatch-plan.js';
export * from './layers/moe/expert-dispatch.js';
export * from './layers/moe/expert-ffn.js';
export * from './layers/moe/expert-lora.js';
export * from './layers/moe/moe-layers.js';
export * from './layers/moe/moe-losses.js';
export * from './layers/moe/resolve-moe-args.js';
export * from './layers/moe/routing.js';
export * from './layers/moe/routing-bias.js';
export * from './layers/moe/routing-stats.js';
export * from './layers/moe.js';
export * from './layers/rms-norm.js';
export * from './layers/rope.js';
export type {SublayerLoRA} from './layers/sublayer-lora.js';
export * from './layers/swiglu.js';
export * from './layers/token-embedding.js';
export * from './models/causal-lm.js';
export * from './models/causal-lm-evaluate.js';
export * from './models/causal-lm-run.js';
export * from './models/causal-lm-train.js';
export * from './models/classification-metrics.js';
export {MaskedMeanPool, type MaskedMeanPoolArgs} from './models/classifier/masked-mean-pool.js';
export * from './models/classifier.js';
export * from './models/classifier-run.js';
export {resolveClassifierConfig, trainClassifier} from './models/classifier-train.js';
export * from './models/distill.js';
export * from './models/distill-data.js';
export * from './models/distill-loss.js';
export * from './models/evaluate-run.js';
export * from './models/feature-classifier.js';
export * from './models/feature-classifier-predict.js';
export * from './models/feature-classifier-run.js';
export {
  encodeFeatureRows,
  featureBatchSource,
  resolveFeatureClassifierConfig,
  trainFeatureClassifier,
} from './models/feature-classifier-train.js';
export * from './models/feature-data.js';
export * from './models/finetune.js';
export * from './models/finetune-model.js';
export * from './models/finetune-options.js';
export * from './models/finetune-run.js';
export * from './models/finetune-task.js';
export * from './models/generate.js';
export * from './models/labeled-data.js';
export * from './models/lm-data.js';
export * from './models/lora-adapter.js';
export * from './models/lora-model.js';
export * from './models/merge-run.js';
export * from './models/model-config.js';
export * from './models/moe-monitor.js';
export * from './models/predict-run.js';
export * from './models/quickstart.js';
export * from './models/run-folder.js';
export * from './models/sampling.js';
export * from './models/teacher-cache.js';
export {ByteTokenizer} from './models/tokenizer/byte-tokenizer.js';
export {HfTokenizer, type TokenizerTrainingReport} from './models/tokenizer/hf-tokenizer.js';
export {TokenStream} from './models/tokenizer/token-stream.js';
export type {TokenizerJson} from './models/tokenizer/tokenizer-json.js';
export {type TrainTokenizerOptions, trainTokenizer} from './models/tokenizer/train-tokenizer.js';
export * from './models/tokenizer.js';
export * from './models/train-run.js';
export {TRAIN_TASKS, type TrainTask, trainTask} from './models/train-task.js';
export {AdamW, type AdamWOptions, type AdamWState} from './train/adamw.js';
export {
  type ArrayBatchSourceOptions,
  arrayBatchSource,
  type Batch,
  type BatchSource,
  disposeBatch,
  epochOrder,
} from './train/batch-source.js';
export {
  type CheckpointContent,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from './train/checkpoint.js';
export {clipByGlobalNorm, globalNorm} from './train/clip.js';
export {TrainingDivergedError} from './train/diverged-error.js';
export type {EarlyStoppingOptions} from './train/early-stopping.js';
export {
  accuracy,
  balancedClassWeights,
  modelLosses,
  sparseCrossEntropy,
  weightedMean,
} from './train/losses.js';
export {MetricsLog, type MetricsRecord} from './train/metrics-log.js';
export type {NamedTensor, NamedVariable} from './train/named-variable.js';
export {type LrDecay, type LrSchedule, learningRateAt} from './train/schedule.js';
export {EventFileWriter} from './train/tensorboard.js';
export {type TrainableModel, trainableFromLayersModel, trainableFromVariables} from './train/trainable.js';
export * from './train/trainer.js';
