import {beforeAll, describe, expect, it} from 'vitest';
import {ModelError} from '../../src/errors.js';
import {encodeTexts} from '../../src/models/text-classifier/classifier.js';
import {RuntimeTokenizer} from '../../src/runtime/tokenizer.js';
import {HfTokenizer} from '../../src/tokenizer/hf-tokenizer.js';
import type {Tokenizer} from '../../src/tokenizer/tokenizer.js';
import {AWKWARD_TEXTS} from './awkward-texts.js';
import {fixtureTexts} from './fixture-texts.js';
import {KIT_TOKENIZERS, kitTokenizer} from './kit-tokenizers.js';

/** The runtime's pure-JS tokenizer against the kit's Node tokenizers, for every kind the kit makes. */
describe('RuntimeTokenizer', () => {
  let fixtures: string[];

  beforeAll(async () => {
    fixtures = await fixtureTexts();
  });

  for (const name of KIT_TOKENIZERS) {
    it(`${name}: the kit's ids on the awkward texts and every fixture text, and its text back`, async () => {
      const node = await kitTokenizer(name);
      const js = runtimeOf(node);
      const texts = [...AWKWARD_TEXTS, ...fixtures];
      const expected = await node.encodeBatch(texts);
      const got = texts.map((t) => js.encodeSync(t));
      const wrong = texts.filter((_, i) => JSON.stringify(got[i]) !== JSON.stringify(expected[i]));
      expect(wrong).toEqual([]);
      // The corpus reaches the unknown token, specials spelled in text, and multi-token words.
      expect(got.flat().length).toBeGreaterThan(texts.length * 10);
      for (const ids of expected.slice(0, AWKWARD_TEXTS.length + 200)) {
        expect(js.decodeSync(ids)).toBe(await node.decode(ids));
      }
      // Any id sequence, including ones that cut a UTF-8 character or hold special tokens.
      for (let r = 0; r < 200; r++) {
        const ids = Array.from({length: 1 + (r % 13)}, (_, k) => (r * 7919 + k * 104_729) % node.vocabSize);
        for (const skipSpecial of [true, false]) {
          expect(js.decodeSync(ids, {skipSpecial})).toBe(await node.decode(ids, {skipSpecial}));
        }
      }
      expect(js.vocabSize).toBe(node.vocabSize);
    });
  }

  it('cuts and pads to maxLen as the classifier does (encodeTexts, pad id at the end)', async () => {
    const node = await kitTokenizer('WordPiece uncased');
    const js = runtimeOf(node);
    for (const maxLen of [1, 8, 128]) {
      expect(await encodeTexts(js, AWKWARD_TEXTS, maxLen)).toEqual(
        await encodeTexts(node, AWKWARD_TEXTS, maxLen),
      );
    }
    const padded = await encodeTexts(js, ['a', ''], 4);
    expect([...padded.subarray(1, 4)]).toEqual([0, 0, 0]);
    expect([...padded.subarray(4)]).toEqual([0, 0, 0, 0]);
  });

  it('splits on added tokens as the binding does: regex characters, a dash, overlapping spellings', async () => {
    const json = (await kitTokenizer('byte-level BPE')).toJSON();
    // New tokens take the ids after the vocabulary, as Hugging Face numbers them.
    const base = Object.keys(json.model.vocab!).length;
    const added = ['<|end-of-text|>', '<|end', '(a+b)*', '[SEP]x'].map((content, i) => ({
      ...json.added_tokens![0]!,
      id: base + i,
      content,
    }));
    const withAdded = {...json, added_tokens: [...json.added_tokens!, ...added]};
    const node = HfTokenizer.fromJSON(withAdded);
    const js = RuntimeTokenizer.fromJSON(withAdded, {kind: 'bpe'});
    const texts = ['a<|end-of-text|>b<|end c', '(a+b)*(a+b)', '[SEP]x [SEP] [SEP]xx', ...AWKWARD_TEXTS];
    for (const text of texts) expect(js.encodeSync(text)).toEqual(await node.encode(text));
    expect(js.encodeSync('<|end-of-text|>')).toEqual([base]);
  });

  it('refuses what it cannot reproduce, naming it', async () => {
    const json = (await kitTokenizer('byte-level BPE')).toJSON();
    const refused = (change: object) => () =>
      RuntimeTokenizer.fromJSON({...json, ...change} as typeof json, {kind: 'hf'});
    expect(refused({normalizer: {type: 'NFKC'}})).toThrow(ModelError);
    expect(refused({normalizer: {type: 'NFKC'}})).toThrow(/does not support the NFKC normalizer/);
    expect(refused({pre_tokenizer: {type: 'Metaspace'}})).toThrow(/the Metaspace pre-tokenizer/);
    expect(refused({model: {...json.model, type: 'Unigram', vocab: [['a', 0]]}})).toThrow(/Unigram/);
    expect(refused({truncation: {max_length: 8}})).toThrow(/"truncation" settings/);
    expect(() => RuntimeTokenizer.fromJSON({} as typeof json, {kind: 'hf'})).toThrow(/no "model" object/);
  });
});

function runtimeOf(node: Tokenizer): RuntimeTokenizer {
  return RuntimeTokenizer.fromJSON(node.toJSON(), {kind: node.kind, special: node.special});
}
