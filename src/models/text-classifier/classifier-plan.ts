import type {LabeledRow} from '../classify/labeled-data.js';
import type {TrainRunOptions} from '../train-options.js';
import type {ClassifierConfig} from './classifier.js';

/** How a preset trains when the flags leave it open. */
export interface ClassifierSchedule {
  /** Peak learning rate (AdamW, cosine decay). */
  lr: number;
  /** Most passes over the data; early stopping usually ends sooner. */
  epochs: number;
  batchSize: number;
  /** Early stopping: evaluations (epochs) without a lower val_loss before stopping; the best weights are kept. */
  patience: number;
}

/**
 * Each preset's schedule. The bag models (`bag`, `fasttext`) learn each embedding row only from the
 * batches that hold its token, so they need a far higher rate than transformer blocks, and several
 * epochs; early stopping ends them (3–20 epochs on bench:quality). Chosen on the validation splits
 * of bench:quality's imdb, reuters and headlines sets (README, "Choosing the defaults"): lr 1e-2
 * against 3e-3 and 3e-2 gave headlines 0.933 / 0.932 / 0.920 and IMDB 0.883 / 0.876 (3e-3 taking
 * twice the epochs); batch 64 was no faster to a given accuracy (each step costs more).
 */
export const PRESET_SCHEDULES: Readonly<Record<string, ClassifierSchedule>> = {
  tiny: {lr: 1e-3, epochs: 3, batchSize: 32, patience: 2},
  small: {lr: 1e-3, epochs: 3, batchSize: 32, patience: 2},
  'small-moe': {lr: 1e-3, epochs: 3, batchSize: 32, patience: 2},
  base: {lr: 1e-3, epochs: 3, batchSize: 32, patience: 2},
  bag: {lr: 1e-2, epochs: 20, batchSize: 32, patience: 2},
  fasttext: {lr: 1e-2, epochs: 20, batchSize: 32, patience: 2},
};

/** What the automatic choice looks at: the training rows' size, classes and text lengths. */
export interface DataProfile {
  rows: number;
  classes: number;
  /** Whitespace-separated words per text: median and 95th percentile. */
  medianWords: number;
  p95Words: number;
}

export function profileRows(rows: readonly LabeledRow[]): DataProfile {
  const words = rows.map((r) => r.text.split(/\s+/).filter(Boolean).length).sort((a, b) => a - b);
  const at = (q: number) => words[Math.min(words.length - 1, Math.floor(q * words.length))] ?? 0;
  return {
    rows: rows.length,
    classes: new Set(rows.map((r) => r.label)).size,
    medianWords: at(0.5),
    p95Words: at(0.95),
  };
}

/** The preset, config keys and schedule a classifier trains with, and one line saying why. */
export interface ClassifierPlan {
  preset: string;
  /** Config keys the plan sets over the preset (flags and --config still win). */
  overrides: Partial<ClassifierConfig>;
  schedule: ClassifierSchedule;
  /** Whether the preset was chosen from the data (no --preset, no --config). */
  automatic: boolean;
  /** One line for the user: what was chosen and why. */
  reason: string;
}

/**
 * Below this many training rows the automatic choice is a bag of embeddings. Unmeasured: the
 * transformer (`small`) never beat the bag where it was measured (`npm run bench:quality -- --sizes`,
 * validation rows; README, "Bag or transformer"), and training it on more rows does not fit a bounded
 * benchmark on 2 cores. So the switch stays where a transformer is commonly expected to pay off.
 */
export const TRANSFORMER_MIN_ROWS = 200_000;

/** The most training rows at which bench:quality --sizes compared the two: IMDB 5,000 (0.8610 bag vs 0.8165 small). */
export const TRANSFORMER_MEASURED_ROWS = 5_000;

/** Tokens a bag model reads per text: 95% of the texts whole (~1.4 WordPiece tokens a word), in 32..512. */
export function bagMaxLen(profile: DataProfile): number {
  return Math.min(MAX_BAG_LEN, Math.max(32, Math.ceil((profile.p95Words * 1.4) / 32) * 32));
}

/**
 * Longer texts keep their first 1,024 tokens. Raised from 512 on bench:quality's validation splits:
 * IMDB (95% of reviews within 591 words → maxLen 832) 0.8845 against 0.8763 at 512, for 16% more
 * CPU (a step's cost is mostly the update of the embedding table, not the tokens); reuters (544)
 * scored the same, headlines (32) is not affected.
 */
const MAX_BAG_LEN = 1024;

/**
 * The classifier's preset and schedule. With --preset or --config the preset is the user's (default
 * `small` under --config) and only the schedule's open settings come from it; with neither, the
 * preset is chosen from the data: `fasttext` (bag of subword + hashed bigram embeddings) below
 * TRANSFORMER_MIN_ROWS rows, `small` above, with maxLen fitted to the texts' lengths.
 */
export function planClassifier(
  profile: DataProfile,
  options: Pick<
    TrainRunOptions,
    'preset' | 'configFile' | 'overrides' | 'lr' | 'epochs' | 'batchSize' | 'patience'
  >,
): ClassifierPlan {
  // Model keys asking for transformer blocks (numLayers > 0) rule out the bag: they build on `small`, as before plans.
  const blocksAsked = Number(options.overrides?.numLayers ?? 0) > 0;
  const automatic = options.preset === undefined && options.configFile === undefined && !blocksAsked;
  const preset = options.preset ?? (automatic && profile.rows < TRANSFORMER_MIN_ROWS ? 'fasttext' : 'small');
  const base = PRESET_SCHEDULES[preset] ?? PRESET_SCHEDULES.small!;
  const schedule: ClassifierSchedule = {
    lr: options.lr ?? base.lr,
    epochs: options.epochs ?? base.epochs,
    batchSize: options.batchSize ?? base.batchSize,
    patience: options.patience ?? base.patience,
  };
  const bag = preset === 'fasttext' || preset === 'bag';
  const overrides: Partial<ClassifierConfig> = automatic && bag ? {maxLen: bagMaxLen(profile)} : {};
  const data = `${profile.rows.toLocaleString('en-US')} rows, ${profile.classes} classes, median ${profile.medianWords} words`;
  const why = !automatic
    ? options.preset === undefined && options.configFile === undefined
      ? `numLayers ${options.overrides?.numLayers} asks for transformer blocks`
      : `preset ${preset} as asked`
    : bag
      ? `bag: transformer blocks did not beat it up to ${TRANSFORMER_MEASURED_ROWS.toLocaleString('en-US')} rows in bench:quality --sizes; maxLen ${overrides.maxLen} ${
          overrides.maxLen === MAX_BAG_LEN && profile.p95Words * 1.4 > MAX_BAG_LEN
            ? `(the cap: 5% of the texts pass ${profile.p95Words} words)`
            : 'covers 95% of the texts'
        }`
      : `${TRANSFORMER_MIN_ROWS.toLocaleString('en-US')}+ rows: transformer blocks (unmeasured; the bag won up to ${TRANSFORMER_MEASURED_ROWS.toLocaleString('en-US')} rows)`;
  const stopping =
    schedule.patience > 0
      ? `, early stopping after ${schedule.patience} epochs without a better val_loss (best weights kept)`
      : '';
  return {
    preset,
    overrides,
    schedule,
    automatic,
    reason: `${automatic ? 'chose' : 'using'} ${preset} (${data}): ${why}; lr ${schedule.lr}, up to ${schedule.epochs} epochs, batch ${schedule.batchSize}${stopping}`,
  };
}
