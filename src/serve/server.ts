import {createHash, timingSafeEqual} from 'node:crypto';
import Fastify, {type FastifyError, type FastifyInstance, type FastifyRequest} from 'fastify';
import {ConfigError, isUserError} from '../errors.js';
import {completions} from './completions.js';
import {HttpError, sendError} from './errors.js';
import {ServeMetrics} from './metrics.js';
import {
  ModelPool,
  ModelUpdateError,
  type RollbackPolicy,
  type TrafficSplit,
  UnknownModelError,
} from './model-pool.js';
import {
  adminSchema,
  type ClassifyBody,
  type CompletionBody,
  classifySchema,
  completionSchema,
  describeValidation,
  type Limits,
} from './schemas.js';
import type {ServedModel} from './served-model.js';

export interface ServeOptions {
  /** Models by name, each a run folder; the first answers requests that name none (unless `split`). */
  models: {name: string; dir: string}[];
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Rows per classification batch and sequences per decoding step. Default 32. */
  maxBatch?: number;
  /** How long a classification request may wait for others to batch with. Default 5. */
  maxWaitMs?: number;
  /** With a key, every route but /healthz needs `Authorization: Bearer KEY`. */
  apiKey?: string;
  /** Key of the /admin routes (they are refused without one). */
  adminKey?: string;
  /** Requests that name no model go to these, by weight (sticky per X-Client-Id). */
  split?: TrafficSplit;
  /** Per-request limits. Defaults: 64 texts, 512 max_tokens, 8 prompts. */
  limits?: Partial<Limits>;
  /** Request body bytes at most. Default 1 MiB. */
  bodyLimit?: number;
  /** A request (body and answer) must finish within this. Default 120 s. */
  requestTimeoutMs?: number;
  /** On close, requests and streams still running after this are cut. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Watching a hot-swapped model: its first requests and the error share that rolls it back. */
  rollback?: Partial<RollbackPolicy>;
  /** Live inputs per drift window. Default 1000. */
  driftWindow?: number;
  /** Tokenize one classification batch per this many ms for drift (see ServedModelOptions). Default 50. */
  driftTokenizeEveryMs?: number;
  /** Log lines (start, model events, drift warnings, shutdown). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  pool: ModelPool;
  metrics: ServeMetrics;
  /** Stops accepting requests, lets running ones and their streams finish (bounded), frees the models. */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The model that answered, for metrics and rollback. */
    served?: ServedModel;
    /** A classification request not yet in its model's queue. */
    arriving?: boolean;
  }
}

/**
 * `serve`: loads the run folders (each warmed up), then answers on HTTP — /v1/classify with dynamic
 * batching, OpenAI-compatible /v1/completions (streamed or not) and /v1/models with continuous
 * batching, /healthz, /readyz, /metrics (Prometheus), /v1/monitor (drift), and
 * POST /admin/models/NAME (hot swap with rollback). Resolves once it listens.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (options.models.length === 0) throw new ConfigError('serve needs at least one --model');
  const log = options.log ?? (() => {});
  const limits: Limits = {maxTexts: 64, maxTokens: 512, maxPrompts: 8, ...options.limits};
  const metrics = new ServeMetrics();
  const arriving = {classify: 0};
  const pool = new ModelPool(
    {
      arriving: () => arriving.classify,
      maxBatch: options.maxBatch ?? 32,
      maxWaitMs: options.maxWaitMs ?? 5,
      driftWindow: options.driftWindow,
      driftTokenizeEveryMs: options.driftTokenizeEveryMs,
      log,
      split: options.split,
      rollback: {requests: 20, maxErrorRate: 0.5, ...options.rollback},
    },
    metrics,
  );
  try {
    for (const {name, dir} of options.models) await pool.add(name, dir);
    pool.checkSplit();
  } catch (err) {
    await pool.close();
    throw err;
  }
  let closing = false;
  const app = buildApp(pool, metrics, limits, options, () => closing, arriving);
  const port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({port, host});
  } catch (err) {
    await pool.close();
    throw new ConfigError(
      `cannot listen on ${host}:${port}: ${(err as Error).message}`,
      'pick another --port',
    );
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  log(`serving ${pool.names().join(', ')} on ${url}`);
  return {
    url,
    port: bound,
    app,
    pool,
    metrics,
    async close() {
      if (closing) return;
      closing = true;
      log('shutting down: no new requests; finishing the ones in flight');
      const force = setTimeout(() => app.server.closeAllConnections(), options.shutdownTimeoutMs ?? 30_000);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      await pool.close();
      log('stopped');
    },
  };
}

function buildApp(
  pool: ModelPool,
  metrics: ServeMetrics,
  limits: Limits,
  options: ServeOptions,
  isClosing: () => boolean,
  arriving: {classify: number},
): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    ajv: {customOptions: {coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false}},
  });

  // Classification requests between arrival and their model's queue: the batcher's early flush.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === '/v1/classify') {
      request.arriving = true;
      arriving.classify++;
    }
  });
  const arrived = (request: FastifyRequest) => {
    if (request.arriving) arriving.classify--;
    request.arriving = false;
  };

  // Authentication: /healthz is open; /admin needs the admin key; the rest the API key, if any.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (path === '/healthz') return;
    const admin = path.startsWith('/admin/');
    if (admin && !options.adminKey) {
      return sendError(
        reply,
        new HttpError(403, 'admin routes are off: start serve with --admin-key (or DSK_ADMIN_KEY)'),
      );
    }
    const key = admin ? options.adminKey : options.apiKey;
    if (key && !bearerMatches(request.headers.authorization, key)) {
      return sendError(
        reply,
        new HttpError(
          401,
          `a valid ${admin ? 'admin' : 'API'} key is required: Authorization: Bearer KEY`,
          null,
          'authentication_error',
          'invalid_api_key',
        ),
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    arrived(request);
    recordResponse(request, reply.statusCode, reply.elapsedTime);
  });

  function recordResponse(request: FastifyRequest, status: number, ms: number): void {
    const route = request.routeOptions.url ?? 'unknown';
    const model = request.served?.name ?? '';
    const labels = {route, model, status: String(status)};
    metrics.latency.observe(labels, ms / 1000);
    if (status >= 400) metrics.errors.inc(labels);
    if (request.served) pool.record(request.served, status < 500);
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const first = error.validation.find((e) => e.keyword === 'anyOf') ?? error.validation[0]!;
      const {param, message} = describeValidation(first as Parameters<typeof describeValidation>[0]);
      return sendError(reply, new HttpError(400, message, param));
    }
    if (error instanceof HttpError) return sendError(reply, error);
    if (error instanceof UnknownModelError)
      return sendError(
        reply,
        new HttpError(404, error.message, 'model', 'invalid_request_error', 'model_not_found'),
      );
    if (error instanceof ModelUpdateError) return sendError(reply, new HttpError(422, error.message, 'path'));
    if (isUserError(error)) return sendError(reply, new HttpError(400, error.message));
    if (error.statusCode && error.statusCode < 500)
      return sendError(reply, new HttpError(error.statusCode, error.message));
    options.log?.(`error on ${request.method} ${request.url}: ${error.stack ?? error.message}`);
    return sendError(reply, new HttpError(500, `internal error: ${error.message}`));
  });

  const clientId = (request: FastifyRequest) => {
    const id = request.headers['x-client-id'];
    return typeof id === 'string' && id !== '' ? id : undefined;
  };

  app.get('/healthz', async () => ({status: 'ok'}));

  app.get('/readyz', async (_request, reply) => {
    if (isClosing()) return reply.code(503).send({status: 'shutting_down'});
    return {status: 'ready', models: pool.names()};
  });

  app.get('/metrics', async (_request, reply) => {
    for (const model of pool.list()) metrics.queueDepth.set({model: model.name}, model.queueDepth);
    return reply.type(metrics.contentType).send(await metrics.text());
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: pool.list().map((m) => ({
      id: m.name,
      object: 'model',
      created: Math.floor(m.loadedAt.getTime() / 1000),
      owned_by: 'deepseek-kit',
      task: m.task,
      kind: m.kind.id,
      run: m.dir,
      version: m.version,
      drift: m.drift.available ? 'available' : 'unavailable',
      events: pool.eventsOf(m.name),
    })),
  }));

  app.get('/v1/monitor', async () => ({
    warning_psi: 0.2,
    models: Object.fromEntries(
      pool.list().map((m) => {
        return [m.name, m.driftReport()];
      }),
    ),
  }));

  app.post<{Body: ClassifyBody}>(
    '/v1/classify',
    {schema: {body: classifySchema(limits)}},
    async (request, reply) => {
      // The batching wait counts from the request's arrival, so parsing it counts towards max-wait-ms.
      const arrivedAt = performance.now() - reply.elapsedTime;
      const model = pool.get(request.body.model, clientId(request));
      request.served = model;
      if (model.task !== 'classify') {
        throw new HttpError(
          400,
          `model "${model.name}" is a language model: use POST /v1/completions`,
          'model',
        );
      }
      const rows = classifyRows(model, request.body);
      arrived(request);
      const probs = await model.classify(rows, arrivedAt);
      const labels = model.run.labels!;
      const k = labels.length;
      return {
        model: model.name,
        version: model.version,
        results: rows.map((_, i) => {
          const p = probs.subarray(i * k, (i + 1) * k);
          let best = 0;
          for (let c = 1; c < k; c++) if (p[c]! > p[best]!) best = c;
          return {label: labels[best], probabilities: Object.fromEntries(labels.map((l, c) => [l, p[c]]))};
        }),
      };
    },
  );

  app.post<{Body: CompletionBody}>(
    '/v1/completions',
    {schema: {body: completionSchema(limits)}},
    async (request, reply) => {
      const model = pool.get(request.body.model, clientId(request));
      request.served = model;
      const started = performance.now();
      try {
        await completions(model, request.body, request, reply);
      } catch (err) {
        if (!reply.sent) throw err;
        // Mid-stream: the status line is gone; say it in the stream and close it.
        const message = (err as Error).message;
        if (!reply.raw.destroyed)
          reply.raw.end(`data: ${JSON.stringify({error: {message, type: 'server_error'}})}\n\n`);
        recordResponse(request, 500, performance.now() - started);
        return;
      }
      if (request.body.stream) recordResponse(request, 200, performance.now() - started);
    },
  );

  app.post<{Params: {name: string}; Body: {path: string}}>(
    '/admin/models/:name',
    {schema: {body: adminSchema}},
    async (request) => {
      const model = await pool.update(request.params.name, request.body.path);
      return {model: model.name, version: model.version, run: model.dir, status: 'serving'};
    },
  );

  return app;
}

/** The rows a classifier reads: texts in its text field, or feature lists as named columns. */
function classifyRows(model: ServedModel, body: ClassifyBody): Record<string, unknown>[] {
  const {features, textField} = model.metadata;
  if (features) {
    if (!body.inputs) {
      throw new HttpError(
        400,
        `model "${model.name}" reads numeric features: send "inputs" (lists of ${features.columns.length} numbers: ${features.columns.join(', ')})`,
        'inputs',
      );
    }
    const bad = body.inputs.findIndex((r) => r.length !== features.columns.length);
    if (bad >= 0) {
      throw new HttpError(
        400,
        `inputs[${bad}] has ${body.inputs[bad]!.length} numbers; model "${model.name}" reads ${features.columns.length} (${features.columns.join(', ')})`,
        `inputs.${bad}`,
      );
    }
    return body.inputs.map((r) => Object.fromEntries(features.columns.map((c, i) => [c, r[i]])));
  }
  if (!body.texts) throw new HttpError(400, `model "${model.name}" reads text: send "texts"`, 'texts');
  return body.texts.map((text) => ({[textField ?? 'text']: text}));
}

/** Constant-time comparison of `Authorization: Bearer KEY` with the key. */
function bearerMatches(header: string | undefined, key: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7) : '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(key));
}
