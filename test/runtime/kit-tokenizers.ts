import {ByteTokenizer} from '../../src/tokenizer/byte-tokenizer.js';
import type {Tokenizer} from '../../src/tokenizer/tokenizer.js';
import {trainTokenizer} from '../../src/tokenizer/train-tokenizer.js';
import {AWKWARD_TEXTS} from './awkward-texts.js';
import {fixtureTexts} from './fixture-texts.js';

export type KitTokenizerName = 'WordPiece uncased' | 'WordPiece cased' | 'byte-level BPE' | 'bytes';

const trained = new Map<KitTokenizerName, Promise<Tokenizer>>();

/**
 * Each kind of tokenizer the kit makes, trained (once per test file) on 1,000 IMDB reviews plus the
 * awkward texts, so CJK, emoji and accents have pieces of their own.
 */
export function kitTokenizer(name: KitTokenizerName): Promise<Tokenizer> {
  if (!trained.has(name)) {
    const train = async (): Promise<Tokenizer> => {
      if (name === 'bytes') return new ByteTokenizer();
      const texts = [...(await fixtureTexts()).slice(0, 1000), ...AWKWARD_TEXTS];
      const kind = name === 'byte-level BPE' ? 'bpe' : 'wordpiece';
      return trainTokenizer({kind, vocabSize: 2000, texts, lowercase: name !== 'WordPiece cased'});
    };
    trained.set(name, train());
  }
  return trained.get(name)!;
}

export const KIT_TOKENIZERS: readonly KitTokenizerName[] = [
  'WordPiece uncased',
  'WordPiece cased',
  'byte-level BPE',
  'bytes',
];
