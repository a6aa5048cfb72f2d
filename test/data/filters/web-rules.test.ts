import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import type {Doc, Verdict} from '../../../src/data/doc.js';
import {c4, c4RemoveLines} from '../../../src/data/filters/c4.js';
import {fineweb} from '../../../src/data/filters/fineweb.js';
import {GOPHER_QUALITY_DEFAULTS, gopherQuality} from '../../../src/data/filters/gopher-quality.js';
import {gopherRepetition} from '../../../src/data/filters/gopher-repetition.js';
import {countWords} from '../../../src/data/filters/words.js';

const paragraphs = readFileSync('fixtures/text/moby-dick.txt', 'utf8').split(/\n\s*\n/);
/** Four paragraphs of Moby-Dick chapter 1, one line each: prose every web rule keeps. */
const GOOD = paragraphs.slice(1, 5).join('\n\n');
// The longest of the first paragraphs repeated after four others: a big share of the characters.
const longest = paragraphs.slice(1, 30).reduce((a, b) => (b.length > a.length ? b : a));
const withRepeat = (sep: string) => [longest, ...paragraphs.slice(10, 14), longest].join(sep);
const doc = (text: string): Doc => ({id: 't', text, fields: {}});
const reason = (v: Verdict) => (v.keep ? 'keep' : v.reason);
const words = (n: number, from = 0) => Array.from({length: n}, (_, i) => `word${from + i}`).join(' ');

const RULES = {
  gopherQuality: gopherQuality(),
  gopherRepetition: gopherRepetition(),
  c4: c4(),
  fineweb: fineweb(),
};

describe('web rules (Gopher, C4, FineWeb) with their published thresholds', () => {
  it('keep real prose', () => {
    for (const [name, rule] of Object.entries(RULES))
      expect([name, reason(rule(doc(GOOD)))]).toEqual([name, 'keep']);
    // A whole chapter, paragraphs separated by blank lines.
    const chapter = paragraphs.slice(1, 20).join('\n\n');
    for (const [name, rule] of Object.entries(RULES))
      expect([name, reason(rule(doc(chapter)))]).toEqual([name, 'keep']);
  });

  // [rule, expected reason, a document written to fail it]
  const cases: [keyof typeof RULES, string, string][] = [
    ['gopherQuality', 'too_few_words', 'The film was good and the cast was fine.'],
    ['gopherQuality', 'too_many_words', `${GOOD} `.repeat(260)],
    [
      'gopherQuality',
      'mean_word_length',
      `the and of to ${Array.from({length: 60}, (_, i) => `incomprehensibilities${i}`).join(' ')}.`,
    ],
    ['gopherQuality', 'symbol_word_ratio', `${GOOD} ${'#trending '.repeat(80)}`],
    [
      'gopherQuality',
      'bullet_lines',
      Array.from({length: 20}, (_, i) => `• item ${i} of the list to have with you`).join('\n'),
    ],
    [
      'gopherQuality',
      'ellipsis_lines',
      Array.from({length: 12}, (_, i) => `And then the ship ${i} sailed to the sea and...`).join('\n'),
    ],
    [
      'gopherQuality',
      'alpha_words',
      `the and of ${Array.from({length: 80}, (_, i) => String(1900 + i)).join(' ')} ${words(10)}`,
    ],
    ['gopherQuality', 'stop_words', 'Cats sleep. Dogs bark loudly. Birds sing songs. '.repeat(10)],
    ['gopherRepetition', 'repeated_paragraphs', [1, 2, 1, 2, 1].map((i) => paragraphs[i]).join('\n\n')],
    ['gopherRepetition', 'repeated_paragraph_chars', withRepeat('\n\n')],
    ['gopherRepetition', 'repeated_lines', ['Home', 'Menu', 'Home', 'Menu', 'Home', GOOD].join('\n')],
    ['gopherRepetition', 'repeated_line_chars', withRepeat('\n')],
    [
      'gopherRepetition',
      'top_ngram_repetition',
      Array.from({length: 30}, (_, i) => `great movie ${i} great movie`).join(' '),
    ],
    ['gopherRepetition', 'duplicate_ngram_repetition', `${GOOD} ${`${words(30, 1000)} `.repeat(3)}`],
    ['c4', 'lorem_ipsum', `${GOOD}\nLorem ipsum dolor sit amet, consectetur adipiscing elit.`],
    ['c4', 'curly_bracket', `${GOOD}\nThe template said {name} where the name should be.`],
    ['c4', 'too_few_sentences', 'Home\nAbout us\nOne sentence here is fine. Two sentences here.\nContact'],
    [
      'fineweb',
      'line_punct_ratio',
      Array.from({length: 10}, (_, i) => `Product ${i} in stock with free shipping today`).join('\n'),
    ],
    [
      'fineweb',
      'short_line_ratio',
      `${paragraphs[1]}\n${Array.from({length: 10}, (_, i) => `Item ${i} sold.`).join('\n')}`,
    ],
    ['fineweb', 'char_dup_ratio', [1, 2, 3, 1].map((i) => paragraphs[i]).join('\n')],
    [
      'fineweb',
      'list_ratio',
      Array.from({length: 20}, (_, i) => `Incomprehensibilities${i} extraordinarily.`).join('\n'),
    ],
  ];
  for (const [rule, expected, text] of cases) {
    it(`${rule} drops with ${expected}`, () => {
      expect(reason(RULES[rule](doc(text)))).toBe(expected);
    });
  }

  it('C4 keeps only lines that end in terminal punctuation and drops boilerplate lines', () => {
    const page = [
      'Home | About | Contact',
      paragraphs[1],
      'Please enable JavaScript to view the comments.',
      'This site uses cookies to improve your experience.',
      paragraphs[2],
      'Read more...',
    ].join('\n');
    expect(c4RemoveLines()(page)).toBe([paragraphs[1], paragraphs[2]].join('\n'));
  });

  it('counts CJK characters as words', () => {
    expect(countWords('我喜欢这部电影')).toBe(7);
    expect(countWords('I liked 这部电影 a lot, really!')).toBe(9);
    expect(countWords("don't stop well-known")).toBe(2 + 1);
    expect(countWords('한국어 문장 입니다')).toBe(3);
    // Gopher's 50-word minimum on a 60-character Chinese text: counted by characters, it passes.
    const zh =
      '我昨天晚上看了这部电影，觉得非常好看。演员的表演很自然，故事也很感人，我推荐大家去电影院看。'.repeat(
        2,
      );
    // (Stop words are English and one-character words are short: those two rules are relaxed.)
    const cjk = gopherQuality({...GOPHER_QUALITY_DEFAULTS, min_mean_word_length: 1, min_stop_words: 0});
    expect(reason(cjk(doc(zh)))).toBe('keep');
    expect(reason(cjk(doc(zh.slice(0, 40))))).toBe('too_few_words');
  });
});
