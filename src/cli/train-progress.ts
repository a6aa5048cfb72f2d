import cliProgress from 'cli-progress';
import type {EpochEvent, EvalEvent, StepEvent} from '../train/trainer.js';

export interface TrainProgressOptions {
  /** Where to write. Default process.stderr. */
  stream?: NodeJS.WritableStream & {isTTY?: boolean};
  /** Draw a live bar (default: when the stream is a terminal); otherwise plain lines. */
  bar?: boolean;
  /** Plain mode: at most one step line per this many ms (the first and last steps always print). Default 10000. */
  intervalMs?: number;
}

/** `1.23k`, `45.6`, `0.0123` — short numbers for a status line. */
function short(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(2)}k`;
  if (a >= 1 || a === 0) return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2).replace(/\.0+$/, '');
  return x.toPrecision(3);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Metrics for people: per-expert detail (`moe/block0/ffn/e3`) stays in metrics.jsonl and TensorBoard. */
const shown = (metrics: Record<string, number>) =>
  Object.entries(metrics).filter(([name]) => !name.includes('/'));

const metricText = (metrics: Record<string, number>) =>
  shown(metrics)
    .map(([name, value]) => `${name} ${value.toFixed(4)}`)
    .join('  ');

/** `step 120/1000  epoch 2  loss 0.4321  acc 0.9120  lr 3.00e-4  1.23k tok/s  eta 2m10s` */
export function formatStepLine(e: StepEvent): string {
  return [
    `step ${e.step}/${e.totalSteps}`,
    `epoch ${e.epoch + 1}`,
    `loss ${e.loss.toFixed(4)}`,
    metricText(e.metrics),
    `lr ${e.lr.toExponential(2)}`,
    e.gradNorm !== undefined ? `gnorm ${short(e.gradNorm)}` : '',
    `${short(e.tokensPerSecond)} tok/s`,
    `eta ${formatDuration(e.eta)}`,
  ]
    .filter(Boolean)
    .join('  ');
}

export function formatEvalLine(e: EvalEvent): string {
  return `eval  step ${e.step}  ${metricText(e.metrics)}${e.improved ? '  (best)' : ''}`;
}

export function formatEpochLine(e: EpochEvent): string {
  return `epoch ${e.epoch + 1} done  step ${e.step}  train loss ${e.loss.toFixed(4)}  ${metricText(e.metrics)}`.trimEnd();
}

/**
 * Renders the trainer's events: a cli-progress bar on a terminal (step, loss, accuracy, lr, tokens/s,
 * ETA) with evaluations and checkpoints printed above it, and plain lines elsewhere (logs, CI).
 * Pass its handlers as the trainer's callbacks; call `stop()` when training ends or fails.
 */
export class TrainProgress {
  private readonly stream: NodeJS.WritableStream;
  private readonly intervalMs: number;
  private readonly multi?: cliProgress.MultiBar;
  private bar?: cliProgress.SingleBar;
  private lastPrint = Number.NEGATIVE_INFINITY;

  constructor(options: TrainProgressOptions = {}) {
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    this.intervalMs = options.intervalMs ?? 10_000;
    if (options.bar ?? stream.isTTY === true) {
      this.multi = new cliProgress.MultiBar(
        {
          stream,
          format:
            'train [{bar}] {value}/{total} | loss {loss} | {metrics}lr {lr} | {tps} tok/s | eta {remaining}',
          hideCursor: true,
          barsize: 24,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  readonly onStep = (e: StepEvent): void => {
    if (this.multi) {
      const payload = {
        loss: e.loss.toFixed(4),
        metrics: shown(e.metrics)
          .map(([n, v]) => `${n} ${v.toFixed(3)} | `)
          .join(''),
        lr: e.lr.toExponential(2),
        tps: short(e.tokensPerSecond),
        remaining: formatDuration(e.eta),
      };
      this.bar ??= this.multi.create(e.totalSteps, 0, payload);
      this.bar.update(e.step, payload);
      return;
    }
    const now = performance.now();
    if (e.step === e.totalSteps || now - this.lastPrint >= this.intervalMs) {
      this.lastPrint = now;
      this.line(formatStepLine(e));
    }
  };

  readonly onEval = (e: EvalEvent): void => this.line(formatEvalLine(e));

  readonly onEpoch = (e: EpochEvent): void => this.line(formatEpochLine(e));

  readonly onCheckpoint = (e: {step: number; path: string}): void =>
    this.line(`checkpoint step ${e.step} → ${e.path}`);

  readonly onWarning = (message: string): void => this.line(`warning: ${message}`);

  /** A line above the bar (or a plain line). */
  line(text: string): void {
    if (this.multi) this.multi.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  stop(): void {
    this.multi?.stop();
  }
}
