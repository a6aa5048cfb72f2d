import {describe, expect, it} from 'vitest';
import {hash64, hash64Hex} from '../../../src/data/dedup/hash64.js';
import {DEFAULT_NORMALIZE, normalizedHash64, normalizeText} from '../../../src/data/dedup/normalize.js';
import {fixtureDocs} from '../fixture-docs.js';

const key = (h: Uint32Array) => `${h[0]}:${h[1]}`;

describe('hash64 and normalization', () => {
  it('the fused normalized hash equals hashing the normalized text, for every option set', () => {
    const texts = [
      ...fixtureDocs().map((d) => d.text),
      '',
      ' ',
      'x',
      '  Leading and trailing \t\n',
      'Straße ﬁne ＦＵＬＬ　width\u00a0space',
      'ΣΊΣΥΦΟΣ',
      '日本語の テキスト',
      'emoji 😂  and\r\nCRLF',
    ];
    for (const flags of [0, 1, 2, 3, 5, 7, 15]) {
      const options = {
        nfkc: (flags & 1) !== 0,
        caseFold: (flags & 2) !== 0,
        collapseWhitespace: (flags & 4) !== 0,
        stripPunctuation: (flags & 8) !== 0,
      };
      for (const text of texts) {
        expect(key(normalizedHash64(text, options))).toBe(key(hash64(normalizeText(text, options))));
      }
    }
  });

  it('normalization folds width, case, ligatures and spacing', () => {
    expect(normalizeText('  Ｇreat\tMOVIE\n\nﬁne  STRASSE ')).toBe('great movie fine strasse');
    expect(normalizeText('Straße')).toBe(normalizeText('STRASSE'));
    expect(normalizeText('Great movie!!', {stripPunctuation: true})).toBe('great movie');
    expect(normalizeText('Keep  Case', {caseFold: false})).toBe('Keep Case');
  });

  it('distinct fixture texts get distinct 64-bit hashes; one changed character changes the hash', () => {
    const texts = [...new Set(fixtureDocs().map((d) => normalizeText(d.text)))];
    const hashes = new Set(texts.map((t) => key(hash64(t))));
    expect(hashes.size).toBe(texts.length);
    expect(hash64Hex('abc')).not.toBe(hash64Hex('abd'));
    expect(hash64Hex('ab')).not.toBe(hash64Hex('ab\u0000'));
    expect(key(normalizedHash64('A  b', DEFAULT_NORMALIZE))).toBe(
      key(normalizedHash64('a b', DEFAULT_NORMALIZE)),
    );
  });
});
