/** Runs the model on rows gathered from several requests: probabilities [rows × labels], row-major. */
export type ClassifyFn = (rows: Record<string, unknown>[]) => Promise<Float32Array>;

export interface ClassifyBatcherOptions {
  /** Rows per forward pass at most. */
  maxBatch: number;
  /** How long the oldest waiting request may wait for others before its batch runs. */
  maxWaitMs: number;
  /**
   * Requests the server has received that have not reached a queue yet. When none is on its way and
   * the model is idle, waiting cannot gather anyone: the batch runs at once (one connection then
   * sees no added latency) instead of after `maxWaitMs`.
   */
  arriving?: () => number;
  /** Told each batch's size and how long each of its requests waited (seconds). */
  onBatch?: (rows: number, waits: number[]) => void;
}

interface Waiting {
  rows: Record<string, unknown>[];
  arrivedAt: number;
  resolve: (probs: Float32Array) => void;
  reject: (err: unknown) => void;
}

/**
 * Dynamic batching for classification (as TF Serving's batcher and Triton's dynamic batcher do):
 * requests queue, and a batch runs as soon as it holds `maxBatch` rows or its oldest request has
 * waited `maxWaitMs` since it arrived, whichever comes first; each caller gets its own rows back.
 * One batch runs at a time (the model has the cores), and requests that come meanwhile form the
 * next. A request with more rows than `maxBatch` runs as a batch of its own. Early flush: when the
 * model is idle and no other request is on its way (`arriving`), the queue runs after the current
 * I/O phase rather than waiting out `maxWaitMs` for requests that are not there.
 */
export class ClassifyBatcher {
  private readonly queue: Waiting[] = [];
  private queuedRows = 0;
  private running = false;
  private timer?: NodeJS.Timeout;
  private checking = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly classify: ClassifyFn,
    /** Probabilities per row (the number of labels). */
    private readonly width: number,
    private readonly options: ClassifyBatcherOptions,
  ) {}

  /** Rows waiting for a batch. */
  get depth(): number {
    return this.queuedRows;
  }

  /** The probabilities [rows × labels] of `rows`; `arrivedAt` (performance.now()) starts the wait. */
  run(rows: Record<string, unknown>[], arrivedAt = performance.now()): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({rows, arrivedAt, resolve, reject});
      this.queuedRows += rows.length;
      this.schedule();
    });
  }

  /** Resolves once no request is waiting or running. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const wait = this.queue[0]!.arrivedAt + this.options.maxWaitMs - performance.now();
    if (this.queuedRows >= this.options.maxBatch || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch();
    } else if (this.options.arriving && !this.checking) {
      // After the requests read in this I/O phase have been parsed and queued.
      this.checking = true;
      setImmediate(() => {
        this.checking = false;
        if (this.running || this.queue.length === 0) return;
        // Otherwise the next request to be queued checks again, and the timer bounds the wait.
        if (this.options.arriving!() === 0) {
          clearTimeout(this.timer);
          this.timer = undefined;
          void this.runBatch();
        }
      });
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  private async runBatch(): Promise<void> {
    this.running = true;
    const batch: Waiting[] = [];
    let rows = 0;
    while (
      this.queue.length > 0 &&
      (batch.length === 0 || rows + this.queue[0]!.rows.length <= this.options.maxBatch)
    ) {
      const next = this.queue.shift()!;
      batch.push(next);
      rows += next.rows.length;
    }
    this.queuedRows -= rows;
    const now = performance.now();
    this.options.onBatch?.(
      rows,
      batch.map((w) => (now - w.arrivedAt) / 1000),
    );
    try {
      const probs = await this.classify(batch.flatMap((w) => w.rows));
      let start = 0;
      for (const w of batch) {
        w.resolve(probs.slice(start * this.width, (start + w.rows.length) * this.width));
        start += w.rows.length;
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length === 0) for (const done of this.idle.splice(0)) done();
      this.schedule();
    }
  }
}
