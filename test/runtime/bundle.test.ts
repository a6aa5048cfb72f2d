import {execFileSync} from 'node:child_process';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {ROOT} from '../helpers/cli.js';

/** The runtime's bundles and its runtime-only package: tfjs is the one thing they bring in. */
describe('runtime bundles', () => {
  it('import only @tensorflow/tfjs (or nothing, standalone), and the package depends on it alone', async () => {
    const out = await mkdtemp(join(tmpdir(), 'dsk-bundle-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts/build-runtime.mjs'), '--out', out]);
      const meta = JSON.parse(await readFile(join(out, 'meta.json'), 'utf8'));
      expect(meta.external.imports).toEqual(['@tensorflow/tfjs']);
      expect(meta.standalone.imports).toEqual([]);
      // Budget: the kit's own code is ~75 KB minified; a Node module or data file pulled in by an
      // import would show here long before it breaks a page.
      expect(meta.external.bytes).toBeLessThan(120_000);
      const bundle = await readFile(join(out, meta.external.file), 'utf8');
      expect(bundle).not.toMatch(/from"(node:|fs"|path")|require\(/);
    } finally {
      await rm(out, {recursive: true, force: true});
    }
    const kit = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    const runtime = JSON.parse(await readFile(join(ROOT, 'packages/runtime/package.json'), 'utf8'));
    expect(runtime.dependencies).toEqual({'@tensorflow/tfjs': kit.dependencies['@tensorflow/tfjs']});
    expect(runtime.version).toBe(kit.version);
    expect(runtime.exports['.'].default).toBe('./dist/deepseek-kit-runtime.mjs');
  });
});
