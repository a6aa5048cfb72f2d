import {readdirSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {ROOT} from '../helpers/cli.js';

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('ONNX export coverage', () => {
  it('every layer class the kit registers has an ONNX converter', async () => {
    // Only tfjs is imported statically: the classes registered by importing the kit are the kit's.
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    const before = new Set(Object.keys(map));
    const files = [
      join(ROOT, 'src/index.ts'),
      ...sources(join(ROOT, 'src/layers')),
      ...sources(join(ROOT, 'src/models')),
    ];
    for (const file of files) await import(/* @vite-ignore */ pathToFileURL(file).href);
    const kitLayers = Object.entries(map)
      .filter(([name, [cls]]) => !before.has(name) && cls.prototype instanceof tf.layers.Layer)
      .map(([name]) => name);
    expect(kitLayers.length).toBeGreaterThanOrEqual(10);
    const {ONNX_CONVERTERS} = await import('../../src/onnx/convert-layers.js');
    // A new layer class fails here until src/onnx/convert-layers.ts converts it (or refuses it
    // there with a message that says why).
    expect(kitLayers.filter((name) => !(name in ONNX_CONVERTERS))).toEqual([]);
  });
});
