// Issue 7's compression bars: export sizes and test accuracy of every weight encoding, on a
// bag-of-words MLP trained on the IMDB fixture (test split: 1,000 reviews), then on the kit's own
// classifiers (`train --preset bag` and `--preset tiny`) trained on the same data.
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {initBackend} from '../src/backend/backend.js';
import {type ExportOptions, exportModel} from '../src/compress/export.js';
import {loadModelFolder} from '../src/compress/model-folder.js';
import {quantizeModel} from '../src/compress/quantize-model.js';
import {openRun} from '../src/models/registry.js';
import {trainRun} from '../src/workflows/train.js';
import {accuracyPercent, trainImdbBow} from '../test/compress/imdb-bow.js';
import {printBar, printRows, type Row} from './report.js';

const CASES: [string, ExportOptions][] = [
  ['fp32', {dtype: 'none'}],
  ['float16', {dtype: 'float16'}],
  ['uint16 per-tensor (tfjs)', {dtype: 'uint16'}],
  ['uint8 per-tensor (tfjs)', {dtype: 'uint8'}],
  ['int8 per-tensor', {dtype: 'int8', granularity: 'per-tensor'}],
  ['int8 per-channel', {dtype: 'int8'}],
  ['int4 per-channel', {dtype: 'int4'}],
  ['int4 per-channel g32', {dtype: 'int4', groupSize: 32}],
];

await initBackend({onWarning: (m) => process.stderr.write(`${m}\n`)});
const root = await mkdtemp(join(tmpdir(), 'dsk-bench-compress-'));
const bow = await trainImdbBow();
const rows: Row[] = [];
try {
  for (const [name, options] of CASES) {
    const out = join(root, name.replace(/\W+/g, '-'));
    const report = await exportModel(bow.model, out, options);
    const model = await loadModelFolder(out);
    rows.push({
      encoding: name,
      model_bytes: report.model_bytes,
      accuracy: accuracyPercent(model, bow.xTest, bow.yTest),
      // As text: the table rounds numbers to 2 decimals.
      max_abs_error: report.max_abs_error.toExponential(2),
      mean_abs_error: report.mean_abs_error.toExponential(2),
      needs_runtime: report.needs_runtime,
    });
    model.dispose();
  }
} finally {
  bow.dispose();
  await rm(root, {recursive: true, force: true});
}
const fp32 = rows[0]!;
for (const r of rows) {
  r.percent_of_fp32 = (100 * (r.model_bytes as number)) / (fp32.model_bytes as number);
  r.accuracy_drop = (fp32.accuracy as number) - (r.accuracy as number);
}
printRows(rows);
const at = (name: string) => rows.find((r) => r.encoding === name)!;
const int8 = at('int8 per-channel');
const f16 = at('float16');
const u8 = at('uint8 per-tensor (tfjs)');
const pct = (r: Row) =>
  `${(r.percent_of_fp32 as number).toFixed(1)}% of fp32, drop ${(r.accuracy_drop as number).toFixed(1)}`;
printBar(
  'int8 per-channel ≤ 27% of fp32 bytes, drop ≤ 1 point',
  (int8.percent_of_fp32 as number) <= 27 && (int8.accuracy_drop as number) <= 1,
  pct(int8),
);
printBar(
  'float16 ≤ 51%, drop ≤ 0.1 point',
  (f16.percent_of_fp32 as number) <= 51 && (f16.accuracy_drop as number) <= 0.1,
  pct(f16),
);
printBar(
  'per-channel int8 loses less than tfjs per-tensor uint8 (accuracy, then weight error)',
  (int8.accuracy_drop as number) < (u8.accuracy_drop as number) ||
    ((int8.accuracy_drop as number) === (u8.accuracy_drop as number) &&
      Number(int8.mean_abs_error) < Number(u8.mean_abs_error)),
  `drop ${(int8.accuracy_drop as number).toFixed(1)} vs ${(u8.accuracy_drop as number).toFixed(1)}, mean |Δw| ${int8.mean_abs_error} vs ${u8.mean_abs_error}`,
);
printBar('int4 drop reported', true, pct(at('int4 per-channel')));

// The kit's classifiers: weight bytes as encoded (scales included) and accuracy of the dequantized model.
const TEST = 'fixtures/imdb/test.jsonl';
for (const preset of ['bag', 'tiny']) {
  const dir = await mkdtemp(join(tmpdir(), `dsk-bench-${preset}-`));
  try {
    await trainRun('classify', {data: 'fixtures/imdb/reviews.jsonl', out: dir, preset, overwrite: true});
    const {kind, run} = await openRun(dir);
    const kitRows: Row[] = [];
    for (const [name, options] of CASES) {
      const q = await quantizeModel(run.model, options);
      const metric = await kind.metric(run, q.model, TEST);
      q.model.dispose();
      kitRows.push({
        model: preset,
        encoding: name,
        weight_bytes: q.report.size_bytes_after,
        percent_of_fp32: (100 * q.report.size_bytes_after) / q.report.size_bytes_before,
        accuracy: 100 * (metric as {accuracy: number}).accuracy,
        mean_abs_error: q.report.mean_abs_error.toExponential(2),
      });
    }
    run.model.dispose();
    for (const r of kitRows) r.accuracy_drop = (kitRows[0]!.accuracy as number) - (r.accuracy as number);
    process.stdout.write('\n');
    printRows(kitRows);
    const k8 = kitRows.find((r) => r.encoding === 'int8 per-channel')!;
    printBar(
      `${preset}: int8 per-channel ≤ 27% of fp32 bytes, drop ≤ 1 point`,
      (k8.percent_of_fp32 as number) <= 27 && (k8.accuracy_drop as number) <= 1,
      pct(k8),
    );
    const ku8 = kitRows.find((r) => r.encoding === 'uint8 per-tensor (tfjs)')!;
    const drops = [k8.accuracy_drop as number, ku8.accuracy_drop as number];
    printBar(
      `${preset}: per-channel int8 loses less than tfjs per-tensor uint8 (accuracy, then weight error)`,
      drops[0]! < drops[1]! ||
        (drops[0] === drops[1] && Number(k8.mean_abs_error) < Number(ku8.mean_abs_error)),
      `drop ${drops[0]!.toFixed(1)} vs ${drops[1]!.toFixed(1)}, mean |Δw| ${k8.mean_abs_error} vs ${ku8.mean_abs_error}`,
    );
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}
