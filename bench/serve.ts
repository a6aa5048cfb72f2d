// npm run bench:serve [-- --json] [-- --seconds 6]: issue 18's serving bars, on loopback, each load
// phase bounded in time and requests. Trains two small runs first (seconds): the `tiny` text
// classifier on the IMDB fixture and the `small` language model (4 blocks of 128, byte tokens) on
// Moby-Dick; the weights barely matter, the shapes set the cost. Servers run in processes of their
// own (bench/serve-server.ts); the load comes from this one, over keep-alive HTTP connections.
// - Classification, one text per request: a server with dynamic batching (--max-batch 32
//   --max-wait-ms 5) against the same run with --max-batch 1. Throughput at 64 connections
//   (bar: >= 4x) and p50 latency at one connection (bar: batched p50 <= unbatched p50 + 5 ms).
// - Generation: 8 concurrent streams of 64 tokens against one stream, aggregate tokens/s over
//   SECONDS of repeated rounds (bar: >= 3x), and the greedy text of each stream equal to
//   `generate` for the same prompt.
// The two sides of each bar run in turn, several rounds, and the medians are compared, so the
// machine's load (`load_avg`) hits both alike.
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {Agent, request} from 'node:http';
import {loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {generate, initBackend, trainRun} from '../src/index.js';
import {printBar, printRows, type Row} from './report.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 6);
const ROUNDS = arg('rounds', 3);
const MAX_REQUESTS = 50_000;
const MAX_WAIT_MS = 5;
const TOKENS = 64;

await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
const root = await mkdtemp(join(tmpdir(), 'dsk-bench-serve-'));
const say = (m: string) => process.stderr.write(`${m}\n`);

say('training the runs to serve…');
const clf = join(root, 'clf');
await trainRun('classify', {data: 'fixtures/imdb/reviews.jsonl', out: clf, preset: 'tiny', steps: 20});
const moby = join(root, 'moby.txt');
await writeFile(moby, (await readFile('fixtures/text/moby-dick.txt', 'utf8')).slice(0, 100_000));
const lm = join(root, 'lm');
await trainRun('lm', {data: moby, out: lm, preset: 'small', steps: 5, overrides: {tokenizerKind: 'byte'}});
const texts = (await readFile('fixtures/imdb/test.jsonl', 'utf8'))
  .split('\n')
  .filter(Boolean)
  .slice(0, 500)
  .map((l) => (JSON.parse(l) as {text: string}).text);

const children: ChildProcess[] = [];
async function server(options: Record<string, unknown>): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/serve-server.ts', JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => resolve(d.toString().trim()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const agent = new Agent({keepAlive: true, maxSockets: 128});
/** POSTs JSON and resolves with the body text. */
function post(url: string, path: string, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(data)},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** `connections` clients, each sending one text per request back to back, for SECONDS (or MAX_REQUESTS). */
async function classifyLoad(
  url: string,
  connections: number,
): Promise<{rps: number; p50: number; requests: number}> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({length: connections}, async (_, c) => {
      while (performance.now() < end && sent < MAX_REQUESTS) {
        const text = texts[(sent++ + c) % texts.length]!;
        const t0 = performance.now();
        await post(url, '/v1/classify', {texts: [text]});
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length / 2)]!,
    requests: latencies.length,
  };
}

/** One completion of TOKENS tokens per prompt, all streamed at once: their texts and tokens generated. */
async function streams(url: string, prompts: string[]): Promise<{tokens: number; texts: string[]}> {
  const results = await Promise.all(
    prompts.map(async (prompt) => {
      const body = await post(url, '/v1/completions', {
        model: 'lm',
        prompt,
        max_tokens: TOKENS,
        temperature: 0,
        stream: true,
        stream_options: {include_usage: true},
      });
      const events = body
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map(
          (e) => JSON.parse(e.slice(6)) as {choices: {text: string}[]; usage?: {completion_tokens: number}},
        );
      return {
        text: events.map((e) => e.choices[0]?.text ?? '').join(''),
        tokens: events.at(-1)?.usage?.completion_tokens ?? 0,
      };
    }),
  );
  return {tokens: results.reduce((n, r) => n + r.tokens, 0), texts: results.map((r) => r.text)};
}

/** `streams` again and again for SECONDS (at most 200 times): aggregate tokens per second, and the first texts. */
async function generationLoad(
  url: string,
  prompts: string[],
): Promise<{tokensPerSecond: number; texts: string[]}> {
  const started = performance.now();
  let tokens = 0;
  let texts: string[] = [];
  for (let i = 0; i < 200 && performance.now() - started < SECONDS * 1000; i++) {
    const r = await streams(url, prompts);
    tokens += r.tokens;
    if (i === 0) texts = r.texts;
  }
  return {tokensPerSecond: tokens / ((performance.now() - started) / 1000), texts};
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Row[] = [];
try {
  say('starting servers…');
  const [batched, single, gen] = await Promise.all([
    server({models: [{name: 'clf', dir: clf}], maxBatch: 32, maxWaitMs: MAX_WAIT_MS, limits: {maxTexts: 64}}),
    server({models: [{name: 'clf', dir: clf}], maxBatch: 1, maxWaitMs: MAX_WAIT_MS}),
    server({models: [{name: 'lm', dir: lm}], maxBatch: 8}),
  ]);
  const rounds: Record<string, number[]> = {};
  const keep = (name: string, value: number) => {
    rounds[name] = [...(rounds[name] ?? []), value];
  };
  // Warm-up: connections, JIT, the models' first batches.
  await classifyLoad(batched, 8);
  await classifyLoad(single, 8);
  for (let round = 0; round < ROUNDS; round++) {
    say(`round ${round + 1} of ${ROUNDS}: classification…`);
    const b64 = await classifyLoad(batched, 64);
    const s64 = await classifyLoad(single, 64);
    const b1 = await classifyLoad(batched, 1);
    const s1 = await classifyLoad(single, 1);
    keep('batched_rps', b64.rps);
    keep('single_rps', s64.rps);
    keep('batched_p50', b1.p50);
    keep('single_p50', s1.p50);
    rows.push(
      {
        case: 'classify 64 conns',
        round: round + 1,
        server: 'max-batch 32',
        req_per_s: b64.rps,
        requests: b64.requests,
        load_avg: loadavg()[0]!,
      },
      {
        case: 'classify 64 conns',
        round: round + 1,
        server: 'max-batch 1',
        req_per_s: s64.rps,
        requests: s64.requests,
        load_avg: loadavg()[0]!,
      },
      {
        case: 'classify 1 conn',
        round: round + 1,
        server: 'max-batch 32',
        p50_ms: b1.p50,
        requests: b1.requests,
        load_avg: loadavg()[0]!,
      },
      {
        case: 'classify 1 conn',
        round: round + 1,
        server: 'max-batch 1',
        p50_ms: s1.p50,
        requests: s1.requests,
        load_avg: loadavg()[0]!,
      },
    );
  }
  const prompts = Array.from(
    {length: 8},
    (_, i) =>
      `Chapter ${i + 1}. Call me Ishmael, said the ${['whale', 'sea', 'ship', 'captain', 'harpoon', 'mate', 'sailor', 'storm'][i]}`,
  );
  let identical = true;
  await streams(gen, prompts.slice(0, 2)); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    say(`round ${round + 1} of ${ROUNDS}: generation…`);
    const one = await generationLoad(gen, prompts.slice(0, 1));
    const eight = await generationLoad(gen, prompts);
    keep('one_tps', one.tokensPerSecond);
    keep('eight_tps', eight.tokensPerSecond);
    if (round === 0) {
      for (const [i, prompt] of prompts.entries()) {
        const want = await generate(lm, prompt, {maxTokens: TOKENS, temperature: 0});
        if (want.text !== eight.texts[i]) identical = false;
      }
    }
    rows.push(
      {
        case: `generate ${TOKENS} tokens`,
        round: round + 1,
        server: '1 stream',
        tokens_per_s: one.tokensPerSecond,
        load_avg: loadavg()[0]!,
      },
      {
        case: `generate ${TOKENS} tokens`,
        round: round + 1,
        server: '8 streams',
        tokens_per_s: eight.tokensPerSecond,
        load_avg: loadavg()[0]!,
      },
    );
  }
  printRows(rows);
  const m = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
  const throughput = m.batched_rps! / m.single_rps!;
  printBar(
    'classification throughput at 64 connections, batched / max-batch 1 (>= 4x)',
    throughput >= 4,
    `${throughput.toFixed(2)}x (medians ${m.batched_rps!.toFixed(0)} vs ${m.single_rps!.toFixed(0)} req/s)`,
  );
  const extra = m.batched_p50! - m.single_p50!;
  printBar(
    `p50 latency at one connection, batched - unbatched (<= ${MAX_WAIT_MS} ms)`,
    extra <= MAX_WAIT_MS,
    `${extra.toFixed(2)} ms (medians ${m.batched_p50!.toFixed(2)} vs ${m.single_p50!.toFixed(2)} ms)`,
  );
  const gain = m.eight_tps! / m.one_tps!;
  printBar(
    `generation, 8 streams / 1 stream aggregate tokens/s (>= 3x)`,
    gain >= 3,
    `${gain.toFixed(2)}x (medians ${m.eight_tps!.toFixed(0)} vs ${m.one_tps!.toFixed(0)} tokens/s)`,
  );
  printBar(
    'greedy output of the 8 batched streams identical to generate',
    identical,
    identical ? 'all 8 identical' : 'a stream differs',
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  agent.destroy();
  await rm(root, {recursive: true, force: true});
}
