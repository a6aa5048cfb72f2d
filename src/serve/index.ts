/**
 * Serving (`deepseek-kit serve`): an HTTP server over run folders. `startServer` loads and warms up
 * the models and answers /v1/classify (dynamic batching: classify-batcher.ts), OpenAI-compatible
 * /v1/completions and /v1/models (continuous batching over a BatchDecoder: generation-scheduler.ts),
 * /healthz, /readyz, /metrics (prom-client: metrics.ts), /v1/monitor (drift against the run's
 * reference, src/monitor) and POST /admin/models/NAME (hot swap with warm-up and rollback:
 * model-pool.ts). It sits beside src/workflows: one library call for one command.
 */
export * from './classify-batcher.js';
export * from './generation-scheduler.js';
export * from './metrics.js';
export * from './model-pool.js';
export * from './schemas.js';
export * from './served-model.js';
export * from './server.js';
