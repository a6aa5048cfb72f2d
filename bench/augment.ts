// npm run bench:augment [-- --json]: CPU time of each augment op on one row of 0.25, 0.5 and 1 MB
// (IMDB reviews run together), and how it grows from 0.25 to 1 MB: 4x is linear, 16x quadratic.
// Bar (issue 17): every op linear in row length (growth under 6x for 4x the text).

import {sharedWordNet} from '../src/data/augment/wordnet.js';
import {AUGMENT_OPS, Augmenter} from '../src/data/augment.js';
import {cpuSeconds, longRow} from '../test/data/long-row.js';
import {printBar, printRows, type Row} from './report.js';

const SIZES = [250_000, 500_000, 1_000_000];
const REPEATS = 3;
const wordNet = sharedWordNet();
wordNet.synonyms('film');
const texts = SIZES.map(longRow);

const rows: Row[] = [];
for (const op of AUGMENT_OPS) {
  const row: Row = {op};
  const best: number[] = [];
  texts.forEach((text, k) => {
    // Best of a few runs: the least disturbed by the garbage collector and other processes.
    let seconds = Number.POSITIVE_INFINITY;
    for (let r = 0; r < REPEATS; r++) {
      const augmenter = new Augmenter({ops: [op], numAug: 1, wordNet});
      seconds = Math.min(
        seconds,
        cpuSeconds(() => augmenter.augment({id: 'long', text, fields: {}})),
      );
    }
    best.push(seconds);
    row[`cpu_s_${SIZES[k]! / 1e6}mb`] = seconds;
  });
  row.growth_4x_text = best[2]! / best[0]!;
  rows.push(row);
}
printRows(rows);
const worst = Math.max(...rows.map((r) => r.growth_4x_text as number));
printBar(
  'augment linear in row length (each op < 6x the time for 4x the text)',
  worst < 6,
  `worst growth ${worst.toFixed(2)}x`,
);
