import {execFileSync} from 'node:child_process';
import {cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {initBackend} from '../../src/backend/backend.js';
import {ModelError, UserError} from '../../src/errors.js';
import {ContainmentError, readContainedFile} from '../../src/fs/contained-file.js';
import {ADAPTER_JSON, readAdapter} from '../../src/lora/lora-adapter.js';
import {openRun} from '../../src/models/registry.js';
import {modelFingerprint} from '../../src/run/adapter-run.js';
import {loadRun} from '../../src/run/load-run.js';
import {MetricsLog} from '../../src/train/metrics-log.js';
import {runCli} from '../helpers/cli.js';
import {tinyRun} from './tiny-run.js';

// Section 2 of issue 17: one containment rule for every file read from a run or export folder.
let root: string;
const SECRET = 'SECRET-CONTENT-OUTSIDE-THE-RUN';

beforeAll(async () => {
  await initBackend();
  root = await mkdtemp(join(tmpdir(), 'dsk-contain-'));
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'secret.json'), `["${SECRET}", 1]`);
  await writeFile(join(root, 'outside', 'x.bin'), Buffer.alloc(64));
});
afterAll(() => rm(root, {recursive: true, force: true}));

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

/** Loading `dir` fails with a user error (exit 1) matching `pattern` that does not quote the secret. */
async function refused(dir: string, pattern: RegExp): Promise<void> {
  const err = await openRun(dir).then(
    (r) => {
      r.run.model.dispose();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain(SECRET);
}

describe('run folder containment', () => {
  it('loads an intact run (the cases below fail for their own reason)', async () => {
    const {run} = await openRun(await tinyRun(root, 'intact'));
    expect(run.labels).toEqual(['neg', 'pos']);
    run.model.dispose();
  });

  it('refuses a model/ folder that is a symbolic link out of the run', async () => {
    const dir = await tinyRun(root, 'model-link');
    await rename(join(dir, 'model'), join(root, 'outside', 'model'));
    await symlink(join(root, 'outside', 'model'), join(dir, 'model'));
    await refused(dir, /model\/model\.json.*(leading outside|linked folder)/);
  });

  it('refuses labels.json, tokenizer.json and config.json linked out, without echoing their content', async () => {
    for (const name of ['labels.json', 'tokenizer.json', 'config.json']) {
      const dir = await tinyRun(root, `link-${name}`);
      await rm(join(dir, name));
      await symlink(join(root, 'outside', 'secret.json'), join(dir, name));
      await refused(dir, new RegExp(`${name.replace('.', '\\.')}.*leading outside`));
    }
  });

  it('refuses special files from stat, without opening them (a FIFO would hang)', async () => {
    const fifoLabels = await tinyRun(root, 'fifo-labels');
    await rm(join(fifoLabels, 'labels.json'));
    mkfifo(join(fifoLabels, 'labels.json'));
    await refused(fifoLabels, /labels\.json.*a FIFO, not a regular file/);

    const fifoShard = await tinyRun(root, 'fifo-shard');
    await rm(join(fifoShard, 'model', 'group1-shard1of1.bin'));
    mkfifo(join(fifoShard, 'model', 'group1-shard1of1.bin'));
    await refused(fifoShard, /group1-shard1of1\.bin.*a FIFO/);

    const dirShard = await tinyRun(root, 'dir-shard');
    await rm(join(dirShard, 'model', 'group1-shard1of1.bin'));
    await mkdir(join(dirShard, 'model', 'group1-shard1of1.bin'));
    await refused(dirShard, /group1-shard1of1\.bin.*a directory/);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a shard that is a character device (mknod, as root)',
    async () => {
      const dir = await tinyRun(root, 'device-shard');
      await rm(join(dir, 'model', 'group1-shard1of1.bin'));
      execFileSync('mknod', [join(dir, 'model', 'group1-shard1of1.bin'), 'c', '1', '5']); // /dev/zero
      await refused(dir, /group1-shard1of1\.bin.*a device/);
    },
  );

  it('refuses a shard listed many times, and more shards than the limit', async () => {
    const dir = await tinyRun(root, 'repeated-shard');
    const jsonPath = join(dir, 'model', 'model.json');
    const json = JSON.parse(await readFile(jsonPath, 'utf8'));
    json.weightsManifest[0].paths = Array(20_000).fill('group1-shard1of1.bin');
    await writeFile(jsonPath, JSON.stringify(json));
    await refused(dir, /more than 10000 shard files/);
    json.weightsManifest[0].paths = Array(3).fill('group1-shard1of1.bin');
    await writeFile(jsonPath, JSON.stringify(json));
    await refused(dir, /listed more than once/);
  });

  it('refuses adapter weightsFile paths that leave the adapter folder, or are not regular files', async () => {
    const adapter = join(root, 'run-a', 'adapter');
    await mkdir(adapter, {recursive: true});
    const manifest = {
      format: 'deepseek-kit-lora-adapter',
      version: 1,
      rank: 2,
      alpha: 4,
      layers: [],
      weightSpecs: [{name: 'x/lora_a', shape: [4, 4], dtype: 'float32'}],
    };
    const cases: [string, RegExp][] = [
      ['../../outside/x.bin', /climbs out with "\.\."/],
      ['../../../../etc/passwd', /climbs out/],
      ['/etc/passwd', /absolute path/],
      ['linked.bin', /leading outside/],
      ['fifo.bin', /a FIFO/],
    ];
    await symlink(join(root, 'outside', 'x.bin'), join(adapter, 'linked.bin'));
    mkfifo(join(adapter, 'fifo.bin'));
    for (const [weightsFile, pattern] of cases) {
      await writeFile(join(adapter, ADAPTER_JSON), JSON.stringify({...manifest, weightsFile}));
      const err = await readAdapter(adapter).catch((e: unknown) => e);
      expect(err, weightsFile).toBeInstanceOf(ContainmentError);
      expect((err as Error).message).toMatch(pattern);
    }
  });

  it('refuses config.json adapter.dir outside the LoRA run', async () => {
    const base = await tinyRun(root, 'lora-base');
    const lora = join(root, 'lora-run');
    await mkdir(lora);
    await cp(join(base, 'tokenizer.json'), join(lora, 'tokenizer.json'));
    await cp(join(base, 'labels.json'), join(lora, 'labels.json'));
    await mkdir(join(root, 'elsewhere-adapter'));
    const config = JSON.parse(await readFile(join(base, 'config.json'), 'utf8'));
    const adapter = {
      base: '../lora-base',
      fingerprint: await modelFingerprint(base),
      dir: '../elsewhere-adapter',
    };
    await writeFile(join(lora, 'config.json'), JSON.stringify({...config, adapter}));
    await expect(loadRun(lora)).rejects.toThrow(/adapter\.dir.*climbs out with "\.\."/);
    await symlink(join(root, 'elsewhere-adapter'), join(lora, 'adapter'));
    await writeFile(
      join(lora, 'config.json'),
      JSON.stringify({...config, adapter: {...adapter, dir: 'adapter'}}),
    );
    await expect(loadRun(lora)).rejects.toThrow(/adapter.*leading outside/);
  });

  it('never reads, truncates or writes through a metrics.jsonl that links out (resume)', async () => {
    const dir = await tinyRun(root, 'metrics-link');
    const target = join(root, 'outside', 'metrics-target.jsonl');
    await writeFile(target, `${SECRET}\n`);
    await symlink(target, join(dir, 'metrics.jsonl'));
    await expect(MetricsLog.open(join(dir, 'metrics.jsonl'), 3)).rejects.toThrow(
      /metrics log is a symbolic link/,
    );
    await expect(MetricsLog.open(join(dir, 'metrics.jsonl'))).rejects.toThrow(ModelError);
    expect(await readFile(target, 'utf8')).toBe(`${SECRET}\n`);
  });

  it('checks the size before reading', async () => {
    await writeFile(join(root, 'big.json'), Buffer.alloc(2048));
    await expect(readContainedFile(root, 'big.json', {maxBytes: 1024, what: 'labels'})).rejects.toThrow(
      /labels is 2048 bytes, more than the 1024 allowed/,
    );
  });

  it('exits 1 from the CLI (not 2, not a hang) on a FIFO shard', async () => {
    const dir = await tinyRun(root, 'cli-fifo');
    await rm(join(dir, 'model', 'group1-shard1of1.bin'));
    mkfifo(join(dir, 'model', 'group1-shard1of1.bin'));
    const r = runCli(['predict', '--model', dir], {input: '{"text": "good"}\n'});
    expect(r.stderr).toMatch(/a FIFO, not a regular file/);
    expect(r.code).toBe(1);
  });
});
