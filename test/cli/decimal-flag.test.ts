import {describe, expect, it} from 'vitest';
import {describeBounds, parseDecimal} from '../../src/cli/decimal-flag.js';
import {errorReport} from '../../src/cli/error-report.js';
import {runCli} from '../helpers/cli.js';

describe('decimal flags', () => {
  it('parse plain, signed and exponent forms inside the bounds, bounds included unless exclusive', () => {
    expect(parseDecimal('3e-4', '--lr', {min: 0, minExclusive: true})).toBe(3e-4);
    expect(parseDecimal('0', '--x', {min: 0, max: 1})).toBe(0);
    expect(parseDecimal('1', '--x', {min: 0, max: 1})).toBe(1);
    expect(parseDecimal('-2.5', '--x')).toBe(-2.5);
    expect(parseDecimal(' .5 ', '--x', {min: 0, max: 1})).toBe(0.5);
  });

  it('reject a value that is not a finite number or lies outside, naming flag, value and bounds', () => {
    const cases: [string, Parameters<typeof parseDecimal>[2], RegExp][] = [
      ['abc', {min: 0, minExclusive: true}, /^--f must be a number > 0, got "abc"$/],
      ['', {min: 0}, /^--f must be a number ≥ 0, got ""$/],
      ['Infinity', {}, /^--f must be a number, got "Infinity"$/],
      ['1', {min: 0, max: 1, maxExclusive: true}, /^--f must be a number in \[0, 1\), got "1"$/],
      ['0', {min: 0, max: 1, minExclusive: true}, /^--f must be a number in \(0, 1\], got "0"$/],
      ['6', {max: 5}, /^--f must be a number ≤ 5, got "6"$/],
      ['0x1', {min: 0, max: 1}, /^--f must be a number in \[0, 1\], got "0x1"$/],
      ['1e400', {}, /got "1e400"/],
    ];
    for (const [text, bounds, message] of cases) {
      let thrown: unknown;
      try {
        parseDecimal(text, '--f', bounds);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, text).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(message);
      expect(errorReport(thrown, {bin: 'deepseek-kit'}).code).toBe('usage');
    }
    expect(describeBounds({min: 0, max: 0.99})).toBe('in [0, 0.99]');
  });

  it('a bad value on the command line exits 1 with one line naming flag, value and bounds', () => {
    const cases: [string[], string][] = [
      [['clean', '--near-threshold', '1'], '--near-threshold must be a number in (0, 1), got "1"'],
      [['balance', '--smoothing', '-1'], '--smoothing must be a number ≥ 0, got "-1"'],
      [
        ['train', '--data', 'fixtures/imdb/test.jsonl', '--out', 'x', '--lr', '1e-3x'],
        '--lr must be a number > 0, got "1e-3x"',
      ],
      [
        ['finetune', '--model', 'x', '--data', 'fixtures/imdb/test.jsonl', '--out', 'y', '--dropout', '1'],
        '--dropout must be a number in [0, 0.99], got "1"',
      ],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args, {input: ''});
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
      expect(lines).toEqual([`Error: ${message} — see deepseek-kit ${args[0]} --help`]);
    }
  });
});
