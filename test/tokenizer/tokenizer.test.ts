import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ConfigError, DatasetError, ModelError} from '../../src/errors.js';
import {ByteTokenizer} from '../../src/tokenizer/byte-tokenizer.js';
import {byteLevelWordCounts, continueMerges} from '../../src/tokenizer/continue-merges.js';
import {HfTokenizer, nativeTokenizers} from '../../src/tokenizer/hf-tokenizer.js';
import {TokenStream} from '../../src/tokenizer/token-stream.js';
import {loadTokenizer, TRAINED_SPECIAL_TOKENS, tokenizerFromJSON} from '../../src/tokenizer/tokenizer.js';
import {mergePair} from '../../src/tokenizer/tokenizer-json.js';
import {NATIVE_TRAINER_CAP, trainTokenizer} from '../../src/tokenizer/train-tokenizer.js';

const MOBY = 'fixtures/text/moby-dick.txt';
// Text no training set holds: CJK, emoji, accents, a control byte, a lone surrogate's replacement.
const UNSEEN = 'Call me Ishmael — 鲸鱼 クジラ 🐋 naïve Ærø \u0001 tab\there';

let dir: string;
let moby: string;
let train: string[];
let heldOut: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsk-tok-'));
  moby = await readFile(MOBY, 'utf8');
  const paragraphs = moby.split(/\n\s*\n/).filter((p) => p.trim().length > 0);
  // Every 10th paragraph is held out: compression is measured on text the tokenizer did not see.
  train = paragraphs.filter((_, i) => i % 10 !== 0);
  heldOut = paragraphs.filter((_, i) => i % 10 === 0).join('\n\n');
});

afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe('ByteTokenizer', () => {
  const tok = new ByteTokenizer();

  it('encodes UTF-8 bytes as ids and decodes any text back exactly', async () => {
    expect(await tok.encode('aé')).toEqual([0x61, 0xc3, 0xa9]);
    expect(await tok.decode(await tok.encode(UNSEEN))).toBe(UNSEEN);
    expect(tok.vocabSize).toBe(261);
    expect(tok.special).toEqual({pad: 256, bos: 257, eos: 258, cls: 259, sep: 260});
  });

  it('skips special ids unless asked, and decodes a cut multi-byte character to U+FFFD', async () => {
    const ids = [tok.special.bos!, ...(await tok.encode('hi')), tok.special.eos!];
    expect(await tok.decode(ids)).toBe('hi');
    expect(await tok.decode(ids, {skipSpecial: false})).toBe('[BOS]hi[EOS]');
    expect(await tok.decode([0xe9, 0xb2])).toBe('\ufffd');
  });

  it('saves a tokenizer.json that the tokenizers library encodes to the same ids, and loads back', async () => {
    const path = join(dir, 'byte.json');
    await tok.save(path);
    const native = HfTokenizer.fromJSON(JSON.parse(await readFile(path, 'utf8')));
    expect(await native.encode(UNSEEN)).toEqual(await tok.encode(UNSEEN));
    expect(await native.decode(await native.encode(UNSEEN))).toBe(UNSEEN);
    expect(await loadTokenizer(path)).toBeInstanceOf(ByteTokenizer);
  });
});

describe('trainTokenizer: byte-level BPE', () => {
  it('gives exactly the vocabulary size asked for, specials at ids 0..5', async () => {
    for (const vocabSize of [300, 2000, 8000]) {
      const tok = await trainTokenizer({kind: 'bpe', vocabSize, texts: train});
      expect(tok.vocabSize).toBe(vocabSize);
      expect(tok.training).toMatchObject({requestedVocabSize: vocabSize, vocabSize});
      expect(tok.training?.limitedBy).toBeUndefined();
      for (const [i, [role, token]] of TRAINED_SPECIAL_TOKENS.entries()) {
        expect(tok.special[role]).toBe(i);
        expect(tok.tokenToId(token)).toBe(i);
      }
      const ids = await tok.encode(heldOut);
      expect(Math.max(...ids)).toBeLessThan(vocabSize);
    }
  });

  it('is lossless on text with bytes it never saw (CJK, emoji, control characters)', async () => {
    const tok = await trainTokenizer({kind: 'bpe', vocabSize: 1000, texts: train});
    const ids = await tok.encode(UNSEEN);
    expect(ids).not.toContain(tok.special.unk);
    expect(await tok.decode(ids)).toBe(UNSEEN);
    expect(await tok.decode(await tok.encode(heldOut))).toBe(heldOut);
  });

  it('a smaller vocabulary is a prefix of a larger one: same merges in the same order', async () => {
    const small = (await trainTokenizer({kind: 'bpe', vocabSize: 1000, texts: train})).toJSON().model;
    const large = (await trainTokenizer({kind: 'bpe', vocabSize: 4000, texts: train})).toJSON().model;
    const smallMerges = small.merges!.map(mergePair);
    expect(large.merges!.slice(0, smallMerges.length).map(mergePair)).toEqual(smallMerges);
    for (const [token, id] of Object.entries(small.vocab as Record<string, number>)) {
      expect((large.vocab as Record<string, number>)[token]).toBe(id);
    }
  });

  it('compresses held-out English better as the vocabulary grows', async () => {
    const bytes = Buffer.byteLength(heldOut);
    const perToken: number[] = [];
    for (const vocabSize of [262, 1000, 8000]) {
      const tok = await trainTokenizer({kind: 'bpe', vocabSize, texts: train});
      perToken.push(bytes / (await tok.encode(heldOut)).length);
    }
    expect(perToken[0]).toBeCloseTo(1, 5); // specials + 256 bytes, no merges: one token per byte
    expect(perToken[1]).toBeGreaterThan(2);
    expect(perToken[2]).toBeGreaterThan(perToken[1]! + 0.8);
  });

  it('trains from files and stops short, saying why, when the text runs out of merges', async () => {
    const path = join(dir, 'tiny.txt');
    await writeFile(path, 'the cat sat on the mat\nthe cat ate the rat\n');
    const tok = await trainTokenizer({kind: 'bpe', vocabSize: 5000, files: [path]});
    expect(tok.vocabSize).toBeLessThan(5000);
    expect(tok.training).toMatchObject({requestedVocabSize: 5000, limitedBy: 'data'});
    expect(await tok.encode('the cat')).toHaveLength(2);
  });
});

describe('BPE past the native trainer cap of 30,000 tokens', () => {
  it('continuing from the first 500 native merges reproduces the next 1,500 native merges exactly', async () => {
    const text = train.join('\n');
    const native = (await trainTokenizer({kind: 'bpe', vocabSize: 2262, texts: train})).toJSON().model;
    const merges = native.merges!.map(mergePair);
    expect(merges).toHaveLength(2000);
    const base = merges.slice(0, 500);
    const more = continueMerges(
      byteLevelWordCounts([text]),
      base,
      new Set(base.map(([a, b]) => a + b)),
      1500,
    );
    expect(more).toEqual(merges.slice(500));
  });

  it('gives the size asked for above the cap when the text supports it, still lossless', async () => {
    const texts: string[] = [moby];
    for (const file of ['imdb/reviews.jsonl', 'imdb/test.jsonl', 'spam/emails.jsonl', 'reuters/news.jsonl']) {
      for (const line of (await readFile(`fixtures/${file}`, 'utf8')).split('\n')) {
        if (line.trim()) texts.push((JSON.parse(line) as {text: string}).text);
      }
    }
    const tok = await trainTokenizer({kind: 'bpe', vocabSize: 33000, texts});
    expect(tok.vocabSize).toBe(33000);
    expect(tok.training?.limitedBy).toBeUndefined();
    expect(tok.toJSON().model.merges!.length).toBeGreaterThan(NATIVE_TRAINER_CAP);
    expect(await tok.decode(await tok.encode(UNSEEN))).toBe(UNSEEN);
    const wordpiece = await trainTokenizer({kind: 'wordpiece', vocabSize: 33000, texts});
    expect(wordpiece.vocabSize).toBe(33000);
  });
});

describe('trainTokenizer: WordPiece', () => {
  it('gives the size asked for, lowercases, and maps unseen characters to [UNK]', async () => {
    const tok = await trainTokenizer({kind: 'wordpiece', vocabSize: 3000, texts: train});
    expect(tok.kind).toBe('wordpiece');
    expect(tok.vocabSize).toBe(3000);
    expect(await tok.encode('WHALE')).toEqual(await tok.encode('whale'));
    const ids = await tok.encode('the whale 🐋');
    expect(ids.at(-1)).toBe(tok.special.unk);
    expect(await tok.decode(ids)).toBe('the whale');
  });

  it('is deterministic: the same text gives the same vocabulary, run after run', async () => {
    const a = await trainTokenizer({kind: 'wordpiece', vocabSize: 2000, texts: train});
    const b = await trainTokenizer({kind: 'wordpiece', vocabSize: 2000, texts: train});
    expect(JSON.stringify(b.toJSON())).toBe(JSON.stringify(a.toJSON()));
    // Frequent words are whole pieces; rare ones split into ## continuations.
    expect(await a.encode('whale')).toHaveLength(1);
    const rare = (await a.encode('unbelievably')).map((id) => a.idToToken(id)!);
    expect(rare.length).toBeGreaterThan(1);
    expect(rare.slice(1).every((t) => t.startsWith('##'))).toBe(true);
  });

  it('refuses a size smaller than its alphabet, naming the size that works', async () => {
    const err = await trainTokenizer({kind: 'wordpiece', vocabSize: 20, texts: train}).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/too small.*use --vocab-size \d+ or more/);
  });
});

describe('trainTokenizer on IMDB reviews (HTML tags, accents, emoji)', () => {
  it('trains both kinds at 8000 and tokenizes the held-out test reviews', async () => {
    const texts = async (path: string) =>
      (await readFile(path, 'utf8'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => (JSON.parse(l) as {text: string}).text);
    const reviews = await texts('fixtures/imdb/reviews.jsonl');
    const test = (await texts('fixtures/imdb/test.jsonl')).slice(0, 200);
    for (const kind of ['bpe', 'wordpiece'] as const) {
      const tok = await trainTokenizer({kind, vocabSize: 8000, texts: reviews});
      expect(tok.vocabSize).toBe(8000);
      const ids = await tok.encodeBatch(test);
      const unknown = ids.flat().filter((id) => id === tok.special.unk).length;
      expect(unknown / ids.flat().length).toBeLessThan(0.001);
      // A frequent word is one token.
      expect(await tok.encode(kind === 'bpe' ? ' movie' : 'movie')).toHaveLength(1);
      if (kind === 'bpe') expect(await tok.decode(ids[0]!)).toBe(test[0]);
    }
  });
});

describe('TokenStream', () => {
  it('streams ids one by one into exactly the text decode gives, holding back cut characters', async () => {
    const bpe = await trainTokenizer({kind: 'bpe', vocabSize: 1000, texts: train});
    const wordpiece = await trainTokenizer({kind: 'wordpiece', vocabSize: 1000, texts: train});
    const text = `${heldOut.slice(0, 600)} ${UNSEEN}`;
    for (const tok of [new ByteTokenizer(), bpe, wordpiece]) {
      const ids = await tok.encode(text);
      const stream = new TokenStream(tok);
      const pieces: string[] = [];
      for (const id of ids) pieces.push(await stream.push(id));
      pieces.push(await stream.flush());
      expect(pieces.join('')).toBe(await tok.decode(ids));
      expect(pieces.some((p) => p.includes('\ufffd'))).toBe(false);
    }
  });
});

describe('save and load', () => {
  it('a trained tokenizer saved and loaded encodes and decodes the same', async () => {
    for (const kind of ['bpe', 'wordpiece'] as const) {
      const tok = await trainTokenizer({kind, vocabSize: 1500, texts: train});
      const path = join(dir, `${kind}.json`);
      await tok.save(path);
      const loaded = await loadTokenizer(path);
      expect(loaded.kind).toBe(kind);
      expect(loaded.vocabSize).toBe(tok.vocabSize);
      expect(loaded.special).toEqual(tok.special);
      const sample = heldOut.slice(0, 5000);
      expect(await loaded.encodeBatch([sample, UNSEEN])).toEqual(await tok.encodeBatch([sample, UNSEEN]));
    }
  });

  it('loads a tokenizer.json made elsewhere and finds its special tokens by their usual spelling', async () => {
    const tk = nativeTokenizers();
    const native = new tk.Tokenizer(
      tk.WordLevel.init({'<unk>': 0, '<s>': 1, '</s>': 2, hello: 3, world: 4}, {unkToken: '<unk>'}),
    );
    native.setPreTokenizer(tk.whitespacePreTokenizer());
    native.addSpecialTokens(['<s>', '</s>']);
    const path = join(dir, 'wordlevel.json');
    native.save(path);
    const tok = await loadTokenizer(path);
    expect(tok.kind).toBe('hf');
    expect(tok.vocabSize).toBe(5);
    expect(tok.special).toMatchObject({unk: 0, bos: 1, eos: 2});
    expect(await tok.encode('hello there world')).toEqual([3, 0, 4]);
  });

  it('refuses a missing, non-JSON or non-tokenizer file with a ModelError naming it', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"model": {"type": "Nonsense"}}');
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, 'hello');
    for (const path of [join(dir, 'missing.json'), notJson, bad]) {
      const err = await loadTokenizer(path).catch((e) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect(err.message).toContain(path);
    }
    expect(() => tokenizerFromJSON({} as never, 'x.json')).toThrow(/x.json: not a tokenizer.json/);
  });

  it('refuses empty training text with a DatasetError', async () => {
    await expect(trainTokenizer({kind: 'bpe', vocabSize: 500, texts: ['', '  ']})).rejects.toBeInstanceOf(
      DatasetError,
    );
    const empty = join(dir, 'empty.txt');
    await writeFile(empty, '');
    await expect(trainTokenizer({kind: 'bpe', vocabSize: 500, files: [empty]})).rejects.toThrow(/empty/);
  });
});
