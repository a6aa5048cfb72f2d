import {describe, expect, it} from 'vitest';
import type {Doc} from '../../../src/data/doc.js';
import {MOJIBAKE_DEFAULTS, mojibake} from '../../../src/data/filters/default-rules.js';
import '../../../src/data/filters/filter-config.js'; // the rule modules register their word tables
import {isSpace} from '../../../src/data/dedup/hash64.js';
import {URL_LIST_DEFAULTS, urlList} from '../../../src/data/filters/structured-junk.js';
import {seeded} from '../near-copies.js';

// The rules keep most rows on a bound (the shared profile, or one cheap pass) before their exact
// pass. A bound may only skip work: on texts made to sit near each threshold, every verdict equals
// that of the rule's plain definition.

const URL_OR_PATH =
  /^[<("'[]*(?:(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+|[\w-]+(?:\.[\w-]+)+\/\S*|(?:[a-z]:)?[\\/][\w.~-]+(?:[\\/][\w.~-]*)+)$/i;
// As the rule was before its token bound, with the profile's bound it already had (fewer slashes
// than min_urls: kept, which a list of `www.` names without a path is).
function urlListPlain(text: string): boolean {
  if ((text.match(/[\\/]/g)?.length ?? 0) < URL_LIST_DEFAULTS.min_urls) return false;
  let chars = 0;
  let urlChars = 0;
  let urls = 0;
  for (const token of text.split(/\s+/)) {
    chars += token.length;
    if (URL_OR_PATH.test(token.replace(/[.,;:!?)\]>'"|]+$/, ''))) {
      urls++;
      urlChars += token.length;
    }
  }
  return (
    urls >= URL_LIST_DEFAULTS.min_urls && chars > 0 && urlChars / chars >= URL_LIST_DEFAULTS.max_url_ratio
  );
}

function mojibakePlain(text: string): boolean {
  let marks = 0;
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32) continue;
    chars++;
    if (c === 0xfffd) marks++;
    else if (c >= 0xc2 && c <= 0xf4 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if ((d >= 0x80 && d <= 0xbf) || d === 0x2019 || d === 0x20ac || d === 0x201c) marks++;
    }
  }
  return marks > 0 && marks / Math.max(1, chars) >= MOJIBAKE_DEFAULTS.max_mojibake_ratio;
}

const doc = (text: string): Doc => ({id: 'x', text, fields: {}});
const SPACES = [' ', ' ', ' ', '\n', '\t', '\u00a0', '\u2003', '\u3000', '\u200b', '\u180e'];

describe('rule bounds never change a verdict', () => {
  it('isSpace is the regular expression class \\s', () => {
    const differ: number[] = [];
    for (let c = 0; c < 0x10000; c++) if (isSpace(c) !== /\s/.test(String.fromCharCode(c))) differ.push(c);
    expect(differ).toEqual([]);
  });

  it('url_list: texts with URLs, www. names, paths and prose slashes', () => {
    const rand = seeded(15);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const tokens = [
      'https://example.com/a?b=1',
      'WWW.example.org',
      'www.x.io,',
      'docs.example.com/guide',
      '/usr/local/bin',
      'C:\\Users\\me\\file.txt',
      '(http://a.b/c).',
      'and/or',
      '1/2',
      'w/o',
      'wwwx.com',
      'the',
      'review',
      'a',
      'wonderful-looking',
    ];
    let dropped = 0;
    const rule = urlList();
    for (let n = 0; n < 3000; n++) {
      const words: string[] = [];
      for (let k = 1 + Math.floor(rand() * 12); k > 0; k--) words.push(pick(tokens), pick(SPACES));
      const text = (rand() < 0.2 ? pick(SPACES) : '') + words.join('');
      const plain = urlListPlain(text);
      dropped += plain ? 1 : 0;
      expect(rule(doc(text)).keep, text).toBe(!plain);
    }
    expect(dropped).toBeGreaterThan(100); // the texts reach both sides of the threshold
  });

  it('mojibake: texts with Latin-1 letters and mis-decoded UTF-8', () => {
    const rand = seeded(16);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const tokens = ['café', 'naïve', 'Ã©', 'â€™', 'Ã', 'ô', '\ufffd', 'plain', 'words', 'here', 'résumé'];
    let dropped = 0;
    const rule = mojibake();
    for (let n = 0; n < 3000; n++) {
      const words: string[] = [];
      for (let k = 1 + Math.floor(rand() * 30); k > 0; k--) words.push(pick(tokens), pick(SPACES));
      const text = words.join('');
      const plain = mojibakePlain(text);
      dropped += plain ? 1 : 0;
      expect(rule(doc(text)).keep, text).toBe(!plain);
    }
    expect(dropped).toBeGreaterThan(100);
  });
});
