import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {describe, expect, it} from 'vitest';

// The layers of the code, top-down (README, "Architecture"): a file may import its own folder and the
// folders below it, never one above. A folder missing here fails the test, so a new one is placed on purpose.
const LEVELS: Record<string, number> = {
  'index.ts': 0,
  commands: 1,
  cli: 2,
  runtime: 2,
  workflows: 3,
  serve: 3,
  models: 4,
  run: 5,
  compress: 6,
  onnx: 6,
  lora: 7,
  train: 7,
  layers: 8,
  data: 8,
  monitor: 8,
  tokenizer: 8,
  fs: 8,
  backend: 9,
  'errors.ts': 10,
};

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Relative imports and re-exports of a file, resolved to .ts paths; `import type` marks type-only. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)'/gms;
  for (const m of text.matchAll(re)) {
    const to = resolve(dirname(file), m[3]!).replace(/\.js$/, '.ts');
    out.push({from: file, to, typeOnly: m[2] !== undefined});
  }
  return out;
}

/** The top folder (or root file) of a path under src, which names its level. */
const topOf = (path: string) => relative(SRC, path).split('/')[0]!;

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);

describe('the import direction of src', () => {
  it('places every folder on a level', () => {
    const unplaced = [...new Set(files.map(topOf))].filter((top) => LEVELS[top] === undefined);
    expect(unplaced).toEqual([]);
  });

  it('imports only its own folder or folders below it', () => {
    const upward = imports
      .filter((i) => i.to.startsWith(SRC) && topOf(i.from) !== topOf(i.to))
      .filter((i) => LEVELS[topOf(i.to)]! < LEVELS[topOf(i.from)]!)
      .map((i) => `${relative(SRC, i.from)} imports ${relative(SRC, i.to)}`);
    expect(upward).toEqual([]);
  });

  it('has no runtime import cycle (type-only imports may loop)', () => {
    const graph = new Map<string, string[]>();
    for (const i of imports) if (!i.typeOnly) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, stack: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...stack, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('loads modules with static imports only (no await import() but the backend loader)', () => {
    const dynamic = files.filter(
      (f) => !f.endsWith(join('backend', 'backend.ts')) && /await import\(/.test(readFileSync(f, 'utf8')),
    );
    expect(dynamic.map((f) => relative(SRC, f))).toEqual([]);
  });
});
