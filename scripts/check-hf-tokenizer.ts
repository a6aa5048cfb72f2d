/**
 * Does an export's tokenizer.json + tokenizer_config.json load in Python transformers and give the
 * kit's ids? Trains the tiny runs of test/runtime (WordPiece classifier, byte-level BPE LM, raw-byte
 * LM), exports them, encodes 200 IMDB reviews and the awkward texts with the kit, and runs
 * scripts/check-hf-tokenizer.py (AutoTokenizer, no special tokens added) on the same texts.
 * Python with transformers is needed (PYTHON=path, default python3); the test suite never runs this.
 *
 *   npm run check:hf-tokenizer
 */
import {execFileSync} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {initBackend} from '../src/backend/backend.js';
import {loadRun} from '../src/run/load-run.js';
import {exportRun} from '../src/workflows/export.js';
import {AWKWARD_TEXTS} from '../test/runtime/awkward-texts.js';
import {TINY_RUNS, trainTinyRuns} from '../test/runtime/tiny-exports.js';

await initBackend();
const dir = await mkdtemp(join(tmpdir(), 'dsk-hf-tokenizer-'));
try {
  await trainTinyRuns(dir);
  const reviews = (await readFile('fixtures/imdb/reviews.jsonl', 'utf8'))
    .trim()
    .split('\n')
    .slice(200, 400)
    .map((line) => JSON.parse(line).text as string);
  const texts = [...AWKWARD_TEXTS, ...reviews];
  const cases = [];
  for (const name of [TINY_RUNS.text, TINY_RUNS.lm, TINY_RUNS.lmLearned]) {
    const out = join(dir, `${name}-export`);
    await exportRun({model: join(dir, name), out, dtype: 'none'});
    const run = await loadRun(join(dir, name));
    run.model.dispose();
    const tokenizer = run.tokenizer!;
    cases.push({
      name,
      dir: out,
      texts,
      ids: await tokenizer.encodeBatch(texts),
      special: Object.fromEntries(Object.entries(tokenizer.special).filter(([, id]) => id !== undefined)),
    });
  }
  const file = join(dir, 'cases.json');
  await writeFile(file, JSON.stringify(cases));
  execFileSync(process.env.PYTHON ?? 'python3', [resolve('scripts/check-hf-tokenizer.py'), file], {
    stdio: 'inherit',
  });
} finally {
  await rm(dir, {recursive: true, force: true});
}
