import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const ENTRY = fileURLToPath(new URL('../../src/runtime/index.ts', import.meta.url));

/**
 * The kit's runtime bundled for a <script> tag: an IIFE exposing `deepseekKit`, with
 * `@tensorflow/tfjs` taken from the page's global `tf` (tf.min.js), so the layers it registers are
 * registered in the page's tfjs.
 */
export async function bundleRuntime(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'deepseekKit',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
    plugins: [
      {
        name: 'tfjs-global',
        setup(b) {
          b.onResolve({filter: /^@tensorflow\/tfjs$/}, () => ({path: 'tf', namespace: 'tfjs-global'}));
          b.onLoad({filter: /.*/, namespace: 'tfjs-global'}, () => ({
            contents: 'module.exports = globalThis.tf;',
          }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}
