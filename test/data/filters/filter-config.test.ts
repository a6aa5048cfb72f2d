import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {C4_DEFAULTS} from '../../../src/data/filters/c4.js';
import {buildSteps, loadFilterConfig, parseFilterConfig} from '../../../src/data/filters/filter-config.js';
import {ConfigError} from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dsk-filters-'));

describe('filter config', () => {
  it('presets: default, web, none', () => {
    const junk = [
      'encoded_blob',
      'random_symbols',
      'keyboard_mash',
      'number_grid',
      'url_list',
      'markup_soup',
      'lorem_ipsum',
      'boilerplate',
      'repeated_lines',
      'word_salad',
    ];
    const basic = ['empty', 'non_text', 'mojibake', 'symbol_ratio'];
    expect(Object.keys(loadFilterConfig('default').rules)).toEqual([...basic, ...junk]);
    expect(Object.keys(loadFilterConfig('web').rules)).toEqual([
      ...basic,
      ...junk,
      'gopher_repetition',
      'gopher_quality',
      'c4',
      'fineweb',
    ]);
    expect(loadFilterConfig('none').rules).toEqual({});
    // C4 judges, then rewrites the page to its kept lines.
    expect(buildSteps(loadFilterConfig('web')).map((s) => `${s.rule}:${s.fix ? 'fix' : 'filter'}`)).toContain(
      'c4:fix',
    );
  });

  it('a YAML file overrides thresholds, disables rules, sets normalization', () => {
    const path = join(dir, 'filters.yaml');
    writeFileSync(
      path,
      'preset: web\nstrip_html: true\nnormalize:\n  case_fold: false\nrules:\n  gopher_quality:\n    min_words: 20\n  c4: false\n  fineweb: true\n',
    );
    const config = loadFilterConfig(path);
    expect(config.rules.gopher_quality).toMatchObject({min_words: 20, max_words: 100_000});
    expect(config.rules.c4).toBeUndefined();
    expect(config.rules.fineweb).toBeDefined();
    expect(config).toMatchObject({preset: 'web', stripHtml: true, normalize: {caseFold: false}});
  });

  it('JSON works too, starting from the default preset', () => {
    const path = join(dir, 'filters.json');
    writeFileSync(path, JSON.stringify({rules: {c4: {min_sentences: 2, remove_lines: false}}}));
    const config = loadFilterConfig(path);
    expect(config.rules.c4).toEqual({...C4_DEFAULTS, min_sentences: 2, remove_lines: false});
    expect(buildSteps(config).some((s) => s.fix)).toBe(false);
  });

  it('rejects unknown keys by name, listing the valid ones, and values of the wrong type', () => {
    const cases: [unknown, RegExp][] = [
      [{presets: 'web'}, /unknown key "presets".*valid keys: preset, rules/],
      [{rules: {gopher: {}}}, /rules: unknown key "gopher".*gopher_quality/],
      [{rules: {gopher_quality: {min_word: 3}}}, /rules\.gopher_quality: unknown key "min_word".*min_words/],
      [{rules: {fineweb: {short_line_length: 'long'}}}, /fineweb\.short_line_length: expected a number/],
      [{rules: {gopher_repetition: {top_ngrams: [[2]]}}}, /expected a list of \[n, ratio\] pairs/],
      [{normalize: {lowercase: true}}, /normalize: unknown key "lowercase".*case_fold/],
      [{preset: 'strict'}, /preset "strict" is not one of default, web, none/],
      [[1, 2], /expected a map/],
    ];
    for (const [value, message] of cases) {
      expect(() => parseFilterConfig(value, 'f.yaml')).toThrow(ConfigError);
      expect(() => parseFilterConfig(value, 'f.yaml')).toThrow(message);
    }
  });

  it('a missing file or bad YAML is a ConfigError', () => {
    expect(() => loadFilterConfig(join(dir, 'nope.yaml'))).toThrow(/not a preset and no such file/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules: [unclosed\n');
    expect(() => loadFilterConfig(bad)).toThrow(/not valid YAML/);
  });
});
