// npx tsx bench/clean-quality-word-pairs.ts: prints the table of function-word pairs that English
// prose (nearly) never writes next to each other, which src/data/filters/word-salad.ts holds as a
// constant. Counted on bench:clean-quality's tuning sources only (IMDB, Reuters, State of the
// Union), never on its held-out ones (spam-assassin, Moby-Dick).
import {FUNCTION_WORDS} from '../src/data/filters/word-salad.js';
import {packageSources} from './clean-quality-sources.js';

/** A pair is rare when prose writes it less than this share of the times chance would. */
const RARE_SHARE = 0.1;
/** …and chance would write it at least this often in the counted text (else the count says nothing). */
const MIN_EXPECTED = 50;

const sources = packageSources(Number.POSITIVE_INFINITY);
const index = new Map(FUNCTION_WORDS.map((w, i) => [w, i]));
const k = FUNCTION_WORDS.length;
const pairs = new Float64Array(k * k);
const single = new Float64Array(k);
let tokens = 0;
let adjacent = 0;
const WORD = /^[("“]*([A-Za-z]+(?:'[a-z]+)?)([.,;:!?"”)]*)$/;
for (const source of ['imdb', 'reuters', 'sotu']) {
  for (const unit of sources[source]!) {
    let prev = -1;
    for (const token of unit.text.replace(/<br \/>/g, ' ').split(/\s+/)) {
      const m = WORD.exec(token);
      const i = m ? (index.get(m[1]!.toLowerCase()) ?? -1) : -1;
      tokens++;
      if (i >= 0) single[i]!++;
      if (prev >= 0) {
        adjacent++;
        if (i >= 0) pairs[prev * k + i]!++;
      }
      prev = m && m[2] === '' ? i : -1;
    }
  }
}
const bits = new Uint8Array(Math.ceil((k * k) / 8));
let rare = 0;
let rareMass = 0;
for (let a = 0; a < k; a++) {
  for (let b = 0; b < k; b++) {
    const expected = (single[a]! / tokens) * (single[b]! / tokens) * adjacent;
    if (expected >= MIN_EXPECTED && pairs[a * k + b]! < RARE_SHARE * expected) {
      bits[(a * k + b) >> 3]! |= 1 << ((a * k + b) & 7);
      rare++;
      rareMass += expected;
    }
  }
}
let mass = 0;
for (let a = 0; a < k; a++)
  for (let b = 0; b < k; b++) mass += (single[a]! / tokens) * (single[b]! / tokens) * adjacent;
process.stderr.write(
  `${tokens} tokens; ${rare} of ${k * k} pairs rare, ${((100 * rareMass) / mass).toFixed(0)}% of the pairs words in random order would make\n`,
);
process.stdout.write(`${Buffer.from(bits).toString('base64')}\n`);
