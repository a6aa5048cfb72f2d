import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {type DecodeOptions, decodeTokens, promptIds} from '../../../src/models/causal-lm/decode-loop.js';
import {TokenStream} from '../../../src/tokenizer/token-stream.js';
import type {Tokenizer} from '../../../src/tokenizer/tokenizer.js';

// A vocabulary of one character per id, id 0 the end of text; a "model" that says a script greedily.
const VOCAB = ['<eos>', 'a', 'b', 'c', ' ', 'x'];
const EOS = 0;
const chars = {
  decode: async (ids: readonly number[]) => ids.map((i) => VOCAB[i]).join(''),
} as unknown as Tokenizer;

async function say(script: string, options: DecodeOptions, contextLength = 64) {
  const ids = [...script].map((c) => VOCAB.indexOf(c)).concat(EOS);
  let next = 0;
  const pieces: [string, number | null][] = [];
  const decoded = await decodeTokens(
    {
      promptIds: [1],
      contextLength,
      eos: EOS,
      step: () => tf.oneHot(ids[Math.min(next++, ids.length - 1)]!, VOCAB.length).toFloat() as tf.Tensor1D,
      stream: new TokenStream(chars),
      onToken: (text, id) => pieces.push([text, id]),
    },
    {temperature: 0, ...options},
  );
  return {...decoded, pieces};
}

describe('decodeTokens (the decode loop of generate and the browser runtime)', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('stops at the end-of-text token, maxTokens or the context, streaming exactly the text', async () => {
    const eos = await say('abc', {});
    expect(eos).toMatchObject({text: 'abc', ids: [1, 2, 3], stoppedBy: 'eos'});
    expect(eos.pieces).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(await say('abcabc', {maxTokens: 4})).toMatchObject({text: 'abca', stoppedBy: 'max_tokens'});
    expect(await say('abcabc', {}, 4)).toMatchObject({text: 'abc', stoppedBy: 'context'});
  });

  it('holds back text that may start a stop string, and never streams a stop string across tokens', async () => {
    const stopped = await say('ab cx', {stop: ['c', ' c']});
    // The earliest stop wins (" c" at 2, before "c" at 3); " " was held back, then dropped.
    expect(stopped).toMatchObject({text: 'ab', stoppedBy: 'stop', ids: [1, 2, 4, 3]});
    expect(stopped.pieces.map(([t]) => t).join('')).toBe('ab');
    expect(stopped.pieces).toEqual([
      ['a', 1],
      ['b', 2],
      ['', 4],
      ['', 3],
    ]);
    // A held-back prefix that does not become the stop string comes out with the next tokens, or at the end.
    const passed = await say('ab a', {stop: [' b']});
    expect(passed.text).toBe('ab a');
    expect(passed.pieces).toEqual([
      ['a', 1],
      ['b', 2],
      ['', 4],
      [' a', 1],
    ]);
    const end = await say('ab ', {stop: [' b']});
    expect(end.pieces.at(-1)).toEqual([' ', null]);
    expect(end.pieces.map(([t]) => t).join('')).toBe(end.text);
  });

  it('starts an empty prompt from the end-of-text token and refuses one that fills the context', () => {
    expect(promptIds([], {eos: 7, bos: 5}, 16)).toEqual([7]);
    expect(promptIds([], {bos: 5}, 16)).toEqual([5]);
    expect(() => promptIds([1, 2, 3, 4], {}, 4)).toThrow(/the prompt is 4 tokens; the model reads at most 4/);
  });
});
