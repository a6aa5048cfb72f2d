import type {TrainRunOptions, TrainRunReport} from './train-options.js';

export interface DistillOptions extends TrainRunOptions {
  /** Run folder of the trained teacher: a classifier, or a language model (then the student is one too). */
  teacher: string;
  /** Softmax temperature T. Default 2. */
  temperature?: number;
  /** Share of the loss taken by the teacher's soft labels. Default 0.5. */
  alpha?: number;
  /** Compute the teacher's logits once and keep them in the run folder (`teacher-logits.f32`). */
  cacheTeacher?: boolean;
}

export interface DistillReport extends TrainRunReport {
  teacher: {dir: string; parameters: number; validation?: Record<string, number>};
  /** Student parameters / teacher parameters. */
  parameter_ratio: number;
  temperature: number;
  alpha: number;
  /** Training rows without a label (taught by the teacher alone). */
  unlabeled_examples: number;
  /** `teacher`: the student reads the teacher's tokenizer; `own`: one trained or given for it. */
  tokenizer_source: 'teacher' | 'own';
  /** off: logits computed per batch; computed: cached this run; reused: read from the cache. */
  teacher_cache: 'off' | 'computed' | 'reused';
}
