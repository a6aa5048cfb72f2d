import {describe, expect, it} from 'vitest';
import {cjkShare, dominantScript, isMostlyCjk, scriptCounts} from '../../src/data/unicode-script.js';

describe('unicode scripts', () => {
  it('counts letters per script, ignoring digits, punctuation and spaces', () => {
    expect(scriptCounts('Hello, мир! 123 世界 さくら カタカナ 한국 שלום مرحبا Ελλάδα नमस्ते')).toEqual({
      Latin: 5,
      Cyrillic: 3,
      Han: 2,
      Hiragana: 3,
      Katakana: 4,
      Hangul: 2,
      Hebrew: 4,
      Arabic: 5,
      Greek: 6,
      Devanagari: 4,
    });
    expect(scriptCounts('123 !!! …')).toEqual({});
    expect(scriptCounts('𠀀𠀁')).toEqual({Han: 2}); // astral ideographs count once each
  });

  it('finds the main script and whether a text is mostly CJK', () => {
    expect(dominantScript('The film 很好')).toBe('Latin');
    expect(dominantScript('这部电影非常好 is good')).toBe('Han');
    expect(dominantScript('42')).toBeUndefined();
    expect(cjkShare('ab漢字')).toBe(0.5);
    expect(isMostlyCjk('ab漢字')).toBe(false);
    expect(isMostlyCjk('这部电影非常好看 OK')).toBe(true);
  });
});
