import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli.js';

describe('deepseek-kit info', () => {
  it('--json reports versions, the backend and why', () => {
    const r = runCli(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.package.name).toBe('deepseek-kit');
    expect(info.tfjs).toBe('4.22.0');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend.name);
    expect(info.backend.reason).toMatch(/auto/);
    if (info.backend.name === 'tensorflow') expect(info.tensorflow.version).toMatch(/^2\./);
  });

  it('--backend cpu via DSK_BACKEND is honoured', () => {
    const r = runCli(['info', '--json'], {env: {DSK_BACKEND: 'cpu'}});
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).backend).toMatchObject({name: 'cpu', requested: 'cpu'});
  });

  it('usage errors exit 1 and input errors name the fix', () => {
    expect(runCli(['info', '--no-such-flag']).code).toBe(1);
    const r = runCli(['info', '--backend', 'tensorflow-gpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tfjs-node-gpu/);
  });

  it('--help lists the commands', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/info/);
  });
});
