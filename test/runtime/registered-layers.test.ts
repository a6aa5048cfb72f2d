import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import '../../src/runtime/index.js';
import {ROOT} from '../helpers/cli.js';

/** Class names passed to `tf.serialization.registerClass` anywhere in src/. */
async function registeredInSources(): Promise<string[]> {
  const names: string[] = [];
  const files = await readdir(join(ROOT, 'src'), {recursive: true});
  for (const file of files.filter((f) => f.endsWith('.ts'))) {
    const text = await readFile(join(ROOT, 'src', file), 'utf8');
    for (const m of text.matchAll(/registerClass\((\w+)\)/g)) {
      const className = text.match(
        new RegExp(`class ${m[1]}\\b[^{]*\\{[^]*?static (?:override )?className = '(\\w+)'`),
      );
      names.push(className?.[1] ?? m[1]!);
    }
  }
  return names.sort();
}

describe('runtime layer registration', () => {
  // This file imports nothing else from src/: what is registered here, the runtime registered.
  it('registers every layer class the kit registers, so any kit model.json loads', async () => {
    const inSources = await registeredInSources();
    expect(inSources).toContain('LearnedPositions');
    expect(inSources.length).toBeGreaterThanOrEqual(10);
    const registered = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
    expect(inSources.filter((name) => !registered.includes(name))).toEqual([]);
  });
});
