import {Counter, Gauge, Histogram, Registry} from 'prom-client';

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one process, as tests
 * run them, do not share counters). Every metric that concerns a model carries a `model` label,
 * so an A/B split can be compared side by side.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  /** Seconds from request to response, by route, model and HTTP status. */
  readonly latency = new Histogram({
    name: 'dsk_request_duration_seconds',
    help: 'Request latency in seconds, by route, model and status code',
    labelNames: ['route', 'model', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  /** Responses with status ≥ 400, by route, model and status. */
  readonly errors = new Counter({
    name: 'dsk_request_errors_total',
    help: 'Responses with an error status, by route, model and status code',
    labelNames: ['route', 'model', 'status'] as const,
    registers: [this.registry],
  });
  /** Rows per forward pass: texts in a classification batch, sequences in a decoding step. */
  readonly batchSize = new Histogram({
    name: 'dsk_batch_size',
    help: 'Rows per forward pass: texts per classification batch, sequences per decoding step',
    labelNames: ['model', 'task'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'dsk_queue_depth',
    help: 'Rows waiting for a batch (classification) or sequences waiting to join (generation)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'dsk_queue_wait_seconds',
    help: 'Seconds a request waited before its batch ran (classification) or its prompt was prefilled (generation)',
    labelNames: ['model'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'dsk_generated_tokens_total',
    help: 'Tokens generated',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly tokensPerSecond = new Gauge({
    name: 'dsk_generated_tokens_per_second',
    help: 'Tokens generated per second over the last decoding steps (all sequences together)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly expertLoad = new Counter({
    name: 'dsk_moe_expert_tokens_total',
    help: 'Token choices routed to each expert of each MoE layer',
    labelNames: ['model', 'layer', 'expert'] as const,
    registers: [this.registry],
  });
  readonly drift = new Gauge({
    name: 'dsk_drift_psi',
    help: 'Population stability index of live traffic against the training reference, per statistic (> 0.2: significant shift)',
    labelNames: ['model', 'statistic'] as const,
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'dsk_model_info',
    help: 'Models served (1), with their run folder and version',
    labelNames: ['model', 'run', 'version'] as const,
    registers: [this.registry],
  });
  readonly rollbacks = new Counter({
    name: 'dsk_model_rollbacks_total',
    help: 'Model updates rolled back (load or warm-up failed, or too many errors after the swap)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  /** The exposition text for GET /metrics. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
