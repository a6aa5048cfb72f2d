import {readFile} from 'node:fs/promises';
import {fileURLToPath} from 'node:url';
import {ModelError} from '../errors.js';
import type {ExportMetadata} from '../models/export-metadata.js';

/** The runtime bundle with tfjs inside, as `npm run build` writes it (scripts/build-runtime.mjs). */
export const DEMO_BUNDLE = 'deepseek-kit-runtime.standalone.mjs';
const BUILT_BUNDLE = fileURLToPath(new URL(`../../dist/runtime/browser/${DEMO_BUNDLE}`, import.meta.url));

/**
 * `export --demo`: index.html and the standalone runtime bundle, to put beside model.json. The
 * page loads the model from its own folder; a person types text (or a row of numbers) and sees the
 * label with its probabilities, or the continuation streaming in token by token. Serve the folder
 * over HTTP (`python3 -m http.server -d EXPORT_DIR`): browsers do not fetch from file:// pages.
 */
export async function demoFiles(
  meta: ExportMetadata,
  bundle = BUILT_BUNDLE,
): Promise<Record<string, string | Uint8Array>> {
  const code = await readFile(bundle).catch((err: NodeJS.ErrnoException) => {
    throw new ModelError(
      `cannot read the runtime bundle ${bundle} for --demo: ${err.code ?? err.message}`,
      'build it first: npm run build (or node scripts/build-runtime.mjs)',
    );
  });
  return {'index.html': demoPage(meta), [DEMO_BUNDLE]: code};
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page: a form, an answer area, and a module script that runs the export with the runtime. */
export function demoPage(meta: ExportMetadata): string {
  const what =
    meta.kind === 'causal-lm'
      ? 'Type the start of a text; the model continues it.'
      : meta.kind === 'feature-classifier'
        ? `Type one row of numbers (${meta.features.columns.join(', ')}), separated by commas.`
        : `Type a text; the model labels it (${meta.labels.join(', ')}).`;
  const button = meta.kind === 'causal-lm' ? 'Generate' : 'Classify';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deepseek-kit demo: ${escapeHtml(meta.kind)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .5rem; }
  button { font: inherit; padding: .3rem 1.2rem; margin: .5rem 0; }
  #label { font-size: 1.4rem; font-weight: 600; }
  .bar { display: grid; grid-template-columns: 8rem 1fr 4rem; gap: .5rem; align-items: center; margin: .2rem 0; }
  .bar div { background: #4a7dd8; height: .9rem; }
  #continuation { white-space: pre-wrap; }
  #continuation .prompt { color: #888; }
  small { color: #666; }
</style>
</head>
<body>
<h1>deepseek-kit demo</h1>
<p>${escapeHtml(what)}</p>
<form id="form">
  <textarea id="input" rows="4" autofocus></textarea>
  <button id="run" type="submit" disabled>${button}</button>
  <small id="status">loading the model…</small>
</form>
<div id="answer" aria-live="polite">
  <div id="label"></div><div id="bars"></div>
  <p id="continuation"></p>
</div>
<script type="module">
import {loadModel, tf} from './${DEMO_BUNDLE}';

const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').textContent = text; };
let model;
try {
  model = await loadModel('./model.json');
  status(\`ready (\${model.kind}, tfjs backend \${tf.getBackend()})\`);
  $('run').disabled = false;
} catch (err) {
  status(\`cannot load the model: \${err.message}\`);
}

function showClassification({label, probabilities}) {
  $('label').textContent = label;
  $('bars').replaceChildren(...Object.entries(probabilities).map(([name, p]) => {
    const row = document.createElement('div');
    row.className = 'bar';
    const bar = document.createElement('div');
    bar.style.width = \`\${(p * 100).toFixed(1)}%\`;
    const track = document.createElement('span');
    track.append(bar);
    row.append(Object.assign(document.createElement('span'), {textContent: name}), track,
      Object.assign(document.createElement('span'), {textContent: p.toFixed(3), className: 'p'}));
    return row;
  }));
}

async function answer(text) {
  const started = performance.now();
  if (model.kind === 'text-classifier') {
    showClassification((await model.classify([text]))[0]);
  } else if (model.kind === 'feature-classifier') {
    showClassification((await model.predict([text.split(',').map((v) => Number(v.trim()))]))[0]);
  } else {
    const out = $('continuation');
    out.replaceChildren(Object.assign(document.createElement('span'), {className: 'prompt', textContent: text}));
    const generated = document.createElement('span');
    generated.id = 'generated';
    out.append(generated);
    const g = await model.generate(text, {
      maxTokens: 64,
      temperature: 0.8,
      topK: 40,
      onToken: (piece) => { generated.textContent += piece; },
    });
    out.dataset.stoppedBy = g.stoppedBy;
  }
  status(\`done in \${(performance.now() - started).toFixed(0)} ms\`);
}

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('run').disabled = true;
  status('running…');
  try {
    await answer($('input').value);
  } catch (err) {
    status(\`error: \${err.message}\`);
  } finally {
    $('run').disabled = false;
  }
});
</script>
</body>
</html>
`;
}
