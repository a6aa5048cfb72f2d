import {type ChildProcess, spawn} from 'node:child_process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ROOT} from '../helpers/cli.js';
import {type ServeRuns, trainServeRuns} from '../serve/serve-fixtures.js';

let runs: ServeRuns;

beforeAll(async () => {
  await initBackend();
  runs = await trainServeRuns();
}, 300_000);

afterAll(async () => {
  await runs?.cleanup();
});

/** Starts `deepseek-kit serve` and resolves with its URL once it listens (from its log line). */
function startCli(args: string[]): Promise<{child: ChildProcess; url: string; stderr: () => string}> {
  const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'serve', ...args], {cwd: ROOT});
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = stderr.match(/serving .* on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve({child, url: m[1]!, stderr: () => stderr});
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)));
  });
}

/** One streamed completion: its text pieces, whether it ended with [DONE], and a promise for its first piece. */
function stream(url: string, prompt: string) {
  let first!: () => void;
  const started = new Promise<void>((resolve) => {
    first = resolve;
  });
  const done = (async () => {
    const r = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({model: 'lm', prompt, max_tokens: 64, temperature: 0, stream: true}),
    });
    let body = '';
    const decoder = new TextDecoder();
    for await (const part of r.body!) {
      body += decoder.decode(part as Uint8Array, {stream: true});
      if (body.includes('data: {')) first();
    }
    const events = body.split('\n\n').filter((e) => e.startsWith('data: '));
    return {
      done: events.at(-1) === 'data: [DONE]',
      finish: events
        .slice(0, -1)
        .map((e) => JSON.parse(e.slice(6)) as {choices: {finish_reason: string | null}[]})
        .at(-1)?.choices[0]?.finish_reason,
    };
  })();
  return {started, done};
}

describe('serve (CLI)', () => {
  it('on SIGTERM finishes the eight streams in flight, refuses new requests, and exits 0', async () => {
    const {child, url, stderr} = await startCli([
      '--model',
      `lm=${runs.lm}`,
      '--port',
      '0',
      '--max-batch',
      '8',
    ]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const streams = Array.from({length: 8}, (_, i) => stream(url, `Stream ${i} of eight`));
    await Promise.all(streams.map((s) => s.started));
    child.kill('SIGTERM');
    const results = await Promise.all(streams.map((s) => s.done));
    expect(results).toEqual(Array.from({length: 8}, () => ({done: true, finish: 'length'})));
    // A new request is refused: 503 on a kept-alive connection, or no connection at all.
    const late = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    expect(await exited).toBe(0);
    expect(stderr()).toMatch(/SIGTERM received/);
    expect(stderr()).toMatch(/stopped/);
  }, 180_000);

  it('exits 1 with a message when a run folder cannot be served', async () => {
    await expect(startCli(['--model', runs.broken, '--port', '0'])).rejects.toThrow(
      /exited with 1[\s\S]*has no trained model/,
    );
  }, 120_000);
});
