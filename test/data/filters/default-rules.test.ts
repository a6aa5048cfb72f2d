import {describe, expect, it} from 'vitest';
import type {Doc, Verdict} from '../../../src/data/doc.js';
import {buildSteps, presetConfig} from '../../../src/data/filters/filter-config.js';
import {isPlainEmail} from '../eval-sources.js';
import {fixtureDocs} from '../fixture-docs.js';

const steps = buildSteps(presetConfig('default'));
/** The default preset's verdict: the first rule that drops, else keep. */
function judge(text: string): string {
  const doc: Doc = {id: 't', text, fields: {}};
  for (const step of steps) {
    const v: Verdict = step.filter!(doc);
    if (!v.keep) return v.reason;
  }
  return 'keep';
}

describe('default preset: drops only what is clearly not text', () => {
  it('keeps every real text of the fixtures: reviews, news stories, plain-text emails', () => {
    for (const path of [
      'fixtures/imdb/reviews.jsonl',
      'fixtures/imdb/test.jsonl',
      'fixtures/reuters/news.jsonl',
      'fixtures/spam/emails.jsonl',
    ]) {
      const docs = fixtureDocs(path).filter((d) => isPlainEmail(d.text));
      const dropped = docs.filter((d) => judge(d.text) !== 'keep');
      expect([path, dropped.map((d) => d.id)]).toEqual([path, []]);
    }
  });

  it('drops the HTML and encoded bodies of the spam fixture as markup or encoded data, not as anything else', () => {
    const encoded = fixtureDocs('fixtures/spam/emails.jsonl').filter((d) => !isPlainEmail(d.text));
    expect(encoded.length).toBeGreaterThan(50);
    const reasons = encoded.map((d) => judge(d.text)).filter((r) => r !== 'keep');
    // Over half: the rest are mostly text with a few tags or quoted-printable escapes, and stay.
    expect(reasons.length / encoded.length).toBeGreaterThan(0.5);
    expect(new Set(reasons)).toEqual(
      new Set(
        reasons.filter((r) =>
          ['markup_soup', 'encoded_blob', 'random_symbols', 'repeated_lines'].includes(r),
        ),
      ),
    );
  });

  it('keeps short legitimate documents', () => {
    const short = [
      ':)',
      'ok',
      'Nope.',
      'lol',
      '10/10',
      'Great!',
      'WOW!!!!!!!!',
      '😂😂😂',
      '❤❤❤❤❤❤❤❤❤',
      'C’est la vie.',
      '東京',
      '¡Olé!',
      '$9.99',
      '+1',
      'A+',
      '#1 film',
      '...',
    ];
    expect(short.filter((t) => judge(t) !== 'keep')).toEqual([]);
  });

  it('drops empty, binary, mis-decoded and symbol-only text with the expected reason', () => {
    expect(judge('')).toBe('empty');
    expect(judge(' \n\t ')).toBe('empty');
    const binary = Array.from({length: 200}, (_, i) => String.fromCharCode((i * 37) % 256)).join('');
    expect(judge(binary)).toBe('non_text');
    expect(judge('\u0000\u0001\u0002PK\u0003\u0004 some header \ufffd\ufffd\ufffd')).toBe('non_text');
    expect(judge('CafÃ© Ã©tait trÃ¨s bon, câ€™est vrai')).toBe('mojibake');
    expect(judge('==========----------**********||||||||||')).toBe('symbol_ratio');
    expect(judge('→→→→ ■■■■ ▲▲▲▲ ┼┼┼┼ ════')).toBe('symbol_ratio');
  });

  it('tolerates a few stray control or mis-decoded characters in a real text', () => {
    const review = fixtureDocs()[0]!.text;
    expect(judge(`${review}\u0010 and \u0096 a dash`)).toBe('keep');
    expect(judge(`${review} (cafÃ©)`)).toBe('keep');
  });
});
