import {existsSync} from 'node:fs';
import {join} from 'node:path';
import OpenAI from 'openai';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {DRIFT_REFERENCE_FILE} from '../../src/monitor/drift-reference.js';
import {type RunningServer, startServer} from '../../src/serve/server.js';
import {generate} from '../../src/workflows/generate.js';
import {type ServeRuns, trainServeRuns} from './serve-fixtures.js';

const KEY = 'test-key';
const ADMIN = 'admin-key';

let runs: ServeRuns;
let server: RunningServer;
const logs: string[] = [];

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const get = (path: string, key = KEY) =>
  fetch(`${server.url}${path}`, {headers: {authorization: `Bearer ${key}`}});

beforeAll(async () => {
  await initBackend();
  runs = await trainServeRuns();
  server = await startServer({
    models: [
      {name: 'clf', dir: runs.classifier},
      {name: 'lm', dir: runs.lm},
      {name: 'b', dir: runs.classifier},
      {name: 'noref', dir: runs.noReference},
      {name: 'iris', dir: runs.features},
      {name: 'moe', dir: runs.moe},
    ],
    port: 0,
    maxBatch: 8,
    maxWaitMs: 5,
    apiKey: KEY,
    adminKey: ADMIN,
    split: [
      {model: 'clf', weight: 0.5},
      {model: 'b', weight: 0.5},
    ],
    rollback: {requests: 6, maxErrorRate: 0.5},
    driftTokenizeEveryMs: 0,
    log: (line) => logs.push(line),
  });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await runs?.cleanup();
});

describe('serve', () => {
  it('train saved the drift reference the server reads', () => {
    expect(existsSync(join(runs.classifier, DRIFT_REFERENCE_FILE))).toBe(true);
    expect(existsSync(join(runs.lm, DRIFT_REFERENCE_FILE))).toBe(true);
  });

  it('answers the official openai client, streaming and not, with the text generate gives', async () => {
    const client = new OpenAI({apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0});
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['clf', 'lm', 'b', 'noref', 'iris', 'moe']);
    const want = await generate(runs.lm, 'Call me Ishmael.', {maxTokens: 12, temperature: 0});
    const completion = await client.completions.create({
      model: 'lm',
      prompt: 'Call me Ishmael.',
      max_tokens: 12,
      temperature: 0,
    });
    expect(completion.choices[0]!.text).toBe(want.text);
    expect(completion.choices[0]!.finish_reason).toBe(want.stopped_by === 'max_tokens' ? 'length' : 'stop');
    expect(completion.usage?.completion_tokens).toBe(want.tokens);
    const stream = await client.completions.create({
      model: 'lm',
      prompt: 'Call me Ishmael.',
      max_tokens: 12,
      temperature: 0,
      stream: true,
    });
    let text = '';
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      reasons.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(text).toBe(want.text);
    expect(reasons.at(-1)).toBe(completion.choices[0]!.finish_reason);
    // Sampled: the same seed gives the same text, through the server and through generate.
    const sampled = await client.completions.create({
      model: 'lm',
      prompt: 'The whale',
      max_tokens: 10,
      seed: 7,
      temperature: 0.9,
    });
    const local = await generate(runs.lm, 'The whale', {maxTokens: 10, seed: 7, temperature: 0.9});
    expect(sampled.choices[0]!.text).toBe(local.text);
  });

  it('decodes concurrent requests in one batch, joining at different steps, and changes no result', async () => {
    const prompts = ['Call me', 'The whale', 'It was', 'Ahab', 'Sea', 'Whaling voyage', 'Queequeg', 'x'];
    // The first sequence runs 40 steps (no machine decodes those within the 15 ms before the second
    // request), so some steps hold several sequences however fast or loaded the machine is; the
    // later, shorter ones join a running batch at different steps and leave before it ends.
    const maxTokens = (i: number) => 40 - 4 * i;
    const want = await Promise.all(
      prompts.map((p, i) => generate(runs.lm, p, {maxTokens: maxTokens(i), temperature: 0})),
    );
    const got = await Promise.all(
      prompts.map(async (prompt, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 15));
        const r = await post('/v1/completions', {
          model: 'lm',
          prompt,
          max_tokens: maxTokens(i),
          temperature: 0,
        });
        return ((await r.json()) as {choices: {text: string}[]}).choices[0]!.text;
      }),
    );
    expect(got).toEqual(want.map((w) => w.text));
    const metrics = await (await get('/metrics')).text();
    const steps = metrics.match(/dsk_batch_size_bucket\{le="1",model="lm",task="generate"\} (\d+)/);
    const all = metrics.match(/dsk_batch_size_count\{model="lm",task="generate"\} (\d+)/);
    expect(Number(all![1])).toBeGreaterThan(Number(steps![1])); // some steps decoded more than one sequence
  });

  it('prefills the prompts of one request together (equal and ragged lengths) to the text generate gives', async () => {
    // The first prompt starts the scheduler's loop and joins alone; the other four, waiting by then,
    // join in one BatchDecoder.addAll: two share a length, the others differ.
    const prompts = ['The whale', 'Call me Ishmael.', 'The whale', 'Sea', 'Call me Ishmael.'];
    for (const model of ['lm', 'moe'] as const) {
      const want = await Promise.all(
        prompts.map((p) => generate(runs[model], p, {maxTokens: 6, temperature: 0})),
      );
      const r = await post('/v1/completions', {model, prompt: prompts, max_tokens: 6, temperature: 0});
      expect(r.status).toBe(200);
      const got = ((await r.json()) as {choices: {text: string; index: number}[]}).choices;
      expect(got.sort((a, b) => a.index - b.index).map((c) => c.text)).toEqual(want.map((w) => w.text));
    }
  });

  it('batches classification requests and gives each caller its own rows', async () => {
    const texts = Array.from({length: 24}, (_, i) =>
      i % 2 ? `a wonderful, moving film number ${i}` : `dull and awful ${i}`,
    );
    const one = async (t: string[]) => {
      const r = await post('/v1/classify', {model: 'clf', texts: t});
      expect(r.status).toBe(200);
      return ((await r.json()) as {results: {label: string; probabilities: Record<string, number>}[]})
        .results;
    };
    const alone = await one(texts);
    const together = await Promise.all(texts.map((t) => one([t])));
    for (const [i, [r]] of together.entries()) {
      expect(r!.label).toBe(alone[i]!.label);
      expect(r!.probabilities.pos).toBeCloseTo(alone[i]!.probabilities.pos!, 5);
    }
  });

  it('classifies numeric feature rows, and counts the tokens each MoE expert takes', async () => {
    const r = await post('/v1/classify', {
      model: 'iris',
      inputs: [
        [5.1, 3.5, 1.4, 0.2],
        [6.7, 3.0, 5.2, 2.3],
      ],
    });
    const body = (await r.json()) as {results: {label: string; probabilities: Record<string, number>}[]};
    expect(r.status).toBe(200);
    expect(body.results).toHaveLength(2);
    for (const row of body.results) {
      expect(Object.keys(row.probabilities).sort()).toEqual(['setosa', 'versicolor', 'virginica']);
      expect(Object.values(row.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const wrong = await post('/v1/classify', {model: 'iris', inputs: [[1, 2, 3]]});
    expect([wrong.status, ((await wrong.json()) as {error: {param: string}}).error.param]).toEqual([
      400,
      'inputs.0',
    ]);
    const texts = await post('/v1/classify', {model: 'iris', texts: ['x']});
    expect([texts.status, ((await texts.json()) as {error: {param: string}}).error.param]).toEqual([
      400,
      'inputs',
    ]);

    expect((await post('/v1/completions', {model: 'moe', prompt: 'Call me', max_tokens: 4})).status).toBe(
      200,
    );
    const metrics = await (await get('/metrics')).text();
    const counts = [
      ...metrics.matchAll(/dsk_moe_expert_tokens_total\{model="moe",layer="([^"]+)",expert="(\d+)"\} (\d+)/g),
    ];
    expect(new Set(counts.map((m) => m[1]))).toEqual(new Set(['block0/ffn', 'block1/ffn']));
    expect(counts.reduce((n, m) => n + Number(m[3]), 0)).toBeGreaterThan(0);
  });

  it('refuses invalid bodies with a 400 that names the field', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/classify', {texts: 'one text'}, 'texts'],
      ['/v1/classify', {}, 'texts'],
      ['/v1/classify', {texts: []}, 'texts'],
      ['/v1/classify', {texts: ['ok'], colour: 'red'}, 'colour'],
      ['/v1/classify', {texts: Array.from({length: 65}, () => 'x')}, 'texts'],
      ['/v1/completions', {model: 'lm'}, 'prompt'],
      ['/v1/completions', {model: 'lm', prompt: 'x', max_tokens: 0}, 'max_tokens'],
      ['/v1/completions', {model: 'lm', prompt: 'x', max_tokens: 100_000}, 'max_tokens'],
      ['/v1/completions', {model: 'lm', prompt: 'x', temperature: 'hot'}, 'temperature'],
      ['/v1/completions', {model: 'lm', prompt: 'x', top_p: 0}, 'top_p'],
      ['/v1/completions', {model: 'lm', prompt: 7}, 'prompt'],
      ['/v1/completions', {model: 'lm', prompt: 'x'.repeat(300)}, 'prompt'],
      ['/v1/completions', {model: 'clf', prompt: 'x'}, 'model'],
      ['/v1/classify', {model: 'lm', texts: ['x']}, 'model'],
    ];
    for (const [path, body, param] of cases) {
      const r = await post(path, body);
      const json = (await r.json()) as {error: {param: string; message: string}};
      expect([r.status, json.error.param], `${path} ${JSON.stringify(body).slice(0, 60)}`).toEqual([
        400,
        param,
      ]);
      expect(json.error.message).toMatch(new RegExp(param === 'model' ? 'use POST' : param.split('.')[0]!));
    }
    expect((await post('/v1/classify', '{"texts": [')).status).toBe(400);
    const unknown = await post('/v1/completions', {model: 'nope', prompt: 'x'});
    expect([unknown.status, ((await unknown.json()) as {error: {code: string}}).error.code]).toEqual([
      404,
      'model_not_found',
    ]);
  });

  it('needs the key on every route but /healthz', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    for (const path of ['/readyz', '/metrics', '/v1/models', '/v1/monitor']) {
      expect((await get(path, 'wrong')).status, path).toBe(401);
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(401);
    }
    const r = await post('/v1/classify', {texts: ['x']}, {authorization: 'Bearer wrong'});
    expect(r.status).toBe(401);
    expect(((await r.json()) as {error: {type: string}}).error.type).toBe('authentication_error');
    // The API key is not the admin key.
    expect((await post('/admin/models/clf', {path: runs.classifier})).status).toBe(401);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('splits requests that name no model, sticky per X-Client-Id, and labels metrics with the model', async () => {
    const servedTo = async (client: string) => {
      const r = await post('/v1/classify', {texts: ['fine']}, {'x-client-id': client});
      return ((await r.json()) as {model: string}).model;
    };
    const clients = Array.from({length: 16}, (_, i) => `client-${i}`);
    const first = await Promise.all(clients.map(servedTo));
    expect(await Promise.all(clients.map(servedTo))).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['clf', 'b']));
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(
      /dsk_request_duration_seconds_count\{route="\/v1\/classify",model="b",status="200"\} \d+/,
    );
  });

  it('reports drift against the training reference, warns above 0.2, and says when a run has none', async () => {
    const long = 'a long rambling review that goes on and on about nothing in particular '.repeat(20);
    for (let i = 0; i < 5; i++) {
      const r = await post('/v1/classify', {model: 'clf', texts: Array.from({length: 30}, () => long)});
      expect(r.status).toBe(200);
    }
    // Drift is observed after the answer (tokenizing is asynchronous): wait for the warning, bounded.
    const drifted = () => logs.some((l) => /model clf: input_length has drifted.*PSI/.test(l));
    for (let waited = 0; !drifted() && waited < 30_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const monitor = (await (await get('/v1/monitor')).json()) as {
      models: Record<
        string,
        {available: boolean; reason?: string; statistics?: Record<string, {psi: number | null}>}
      >;
    };
    expect(monitor.models.clf!.statistics!.input_length!.psi).toBeGreaterThan(0.2);
    expect(monitor.models.noref!.available).toBe(false);
    expect(monitor.models.noref!.reason).toMatch(/no drift reference/);
    expect(drifted()).toBe(true);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/dsk_drift_psi\{model="clf",statistic="input_length"\} [\d.]+/);
    const models = (await (await get('/v1/models')).json()) as {data: {id: string; drift: string}[]};
    expect(models.data.find((m) => m.id === 'noref')!.drift).toBe('unavailable');
  });

  it('rolls back a broken run folder pushed to /admin, and the old model keeps answering', async () => {
    const admin = {authorization: `Bearer ${ADMIN}`};
    const r = await post('/admin/models/clf', {path: runs.broken}, admin);
    expect(r.status).toBe(422);
    expect(((await r.json()) as {error: {message: string}}).error.message).toMatch(
      /version 1 .* still serves/,
    );
    const answer = await post('/v1/classify', {model: 'clf', texts: ['still here']});
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as {version: number}).version).toBe(1);
    const models = (await (await get('/v1/models')).json()) as {
      data: {id: string; events: {event: string}[]}[];
    };
    expect(models.data.find((m) => m.id === 'clf')!.events.map((e) => e.event)).toContain('rolled_back');
    expect(logs.some((l) => /model clf: rolled back/.test(l))).toBe(true);
  });

  it('swaps in a good version atomically, and rolls it back when its first requests fail', async () => {
    const admin = {authorization: `Bearer ${ADMIN}`};
    const r = await post('/admin/models/b', {path: runs.noReference}, admin);
    expect(await r.json()).toMatchObject({model: 'b', version: 2, status: 'serving'});
    const served = server.pool.get('b');
    expect(served.version).toBe(2);
    // Server errors on the new version (as a model that breaks on real traffic would give).
    for (let i = 0; i < 4; i++) server.pool.record(served, false);
    expect(server.pool.get('b').version).toBe(1);
    const models = (await (await get('/v1/models')).json()) as {
      data: {id: string; version: number; events: {event: string; message: string}[]}[];
    };
    const b = models.data.find((m) => m.id === 'b')!;
    expect(b.version).toBe(1);
    expect(b.events.at(-1)).toMatchObject({event: 'rolled_back'});
    expect(b.events.at(-1)!.message).toMatch(/failed 4 of its first 4 requests/);
    const answer = await post('/v1/classify', {model: 'b', texts: ['ok']});
    expect(((await answer.json()) as {version: number}).version).toBe(1);
  });

  it('exports /metrics as valid Prometheus text', async () => {
    const r = await get('/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await r.text();
    const families = checkPrometheusText(text);
    for (const name of [
      'dsk_request_duration_seconds',
      'dsk_request_errors_total',
      'dsk_batch_size',
      'dsk_queue_depth',
      'dsk_queue_wait_seconds',
      'dsk_generated_tokens_total',
      'dsk_generated_tokens_per_second',
      'dsk_drift_psi',
      'dsk_model_info',
      'dsk_model_rollbacks_total',
    ]) {
      expect(families.get(name), name).toBeDefined();
    }
    expect(text).toMatch(/dsk_request_errors_total\{route="\/v1\/classify",model="",status="401"\} \d+/);
  });
});

/**
 * A strict reading of the Prometheus text format 0.0.4: every line a HELP, a TYPE or a sample;
 * every sample of a family with a TYPE, its labels well-formed and its value a number; histogram
 * buckets cumulative and ending in +Inf equal to _count. Returns the families and their types.
 */
function checkPrometheusText(text: string): Map<string, string> {
  const types = new Map<string, string>();
  const buckets = new Map<string, number[]>();
  const counts = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const label = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"`;
  const sample = new RegExp(`^(${name})(\\{(?:${label})(?:,${label})*\\})? (\\S+)$`);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = line.match(new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`));
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (new RegExp(`^# HELP ${name} .*$`).test(line)) continue;
    const m = line.match(sample);
    expect(m, `not a Prometheus line: ${line}`).not.toBeNull();
    const value = Number(m![3] === '+Inf' ? Infinity : m![3]);
    expect(Number.isNaN(value), line).toBe(false);
    const family = m![1]!.replace(/_(bucket|sum|count|total)$/, '');
    expect(types.has(m![1]!) || types.has(family), `sample without a TYPE: ${line}`).toBe(true);
    const labels = (m![2] ?? '')
      .slice(1, -1)
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter((l) => l !== '' && !l.startsWith('le='));
    const series = `${family}{${labels.join(',')}}`;
    if (m![1]!.endsWith('_bucket')) buckets.set(series, [...(buckets.get(series) ?? []), value]);
    if (m![1]!.endsWith('_count')) counts.set(series, value);
  }
  for (const [series, values] of buckets) {
    for (let i = 1; i < values.length; i++) expect(values[i]!, series).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values.at(-1), series).toBe(counts.get(series));
  }
  return types;
}
