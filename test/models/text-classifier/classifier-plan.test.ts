import {describe, expect, it} from 'vitest';
import {CLASSIFIER_PRESETS} from '../../../src/models/text-classifier/classifier.js';
import {
  bagMaxLen,
  PRESET_SCHEDULES,
  planClassifier,
  profileRows,
  TRANSFORMER_MIN_ROWS,
} from '../../../src/models/text-classifier/classifier-plan.js';

const rows = (n: number, words: number, classes: number) =>
  Array.from({length: n}, (_, i) => ({
    text: 'w '.repeat(words + (i % 5)),
    label: `c${i % classes}`,
    weight: 1,
  }));

describe('planClassifier', () => {
  it('profiles rows: count, classes, word-length percentiles', () => {
    expect(profileRows(rows(100, 10, 4))).toEqual({rows: 100, classes: 4, medianWords: 12, p95Words: 14});
  });

  it('with nothing given, picks fasttext below the row threshold with maxLen fitted to the texts, and says why', () => {
    const plan = planClassifier(profileRows(rows(6000, 7, 20)), {});
    expect(plan).toMatchObject({preset: 'fasttext', automatic: true, overrides: {maxLen: 32}});
    expect(plan.schedule).toEqual(PRESET_SCHEDULES.fasttext);
    expect(plan.reason).toMatch(
      /^chose fasttext \(6,000 rows, 20 classes, median 9 words\): .*maxLen 32 covers 95%/,
    );
    expect(planClassifier(profileRows(rows(10, 2000, 2)), {}).reason).toMatch(/maxLen 1024 \(the cap/);
    const big = {rows: TRANSFORMER_MIN_ROWS, classes: 3, medianWords: 40, p95Words: 90};
    expect(planClassifier(big, {})).toMatchObject({
      preset: 'small',
      reason: expect.stringMatching(/unmeasured/),
    });
    expect(plan.reason).toMatch(
      /transformer blocks did not beat it up to [\d,]+ rows in bench:quality --sizes/,
    );
  });

  it("a preset brings its own schedule; flags win; --config alone means small's", () => {
    const profile = {rows: 1000, classes: 2, medianWords: 100, p95Words: 300};
    expect(planClassifier(profile, {preset: 'bag'})).toMatchObject({
      preset: 'bag',
      automatic: false,
      overrides: {},
      schedule: PRESET_SCHEDULES.bag,
    });
    expect(
      planClassifier(profile, {preset: 'bag', lr: 0.003, epochs: 4, patience: 0}).schedule,
    ).toMatchObject({
      lr: 0.003,
      epochs: 4,
      patience: 0,
    });
    expect(planClassifier(profile, {configFile: 'model.yaml'})).toMatchObject({
      preset: 'small',
      automatic: false,
    });
    expect(bagMaxLen(profile)).toBe(448);
  });

  it('model keys asking for transformer blocks (numLayers > 0) build on small, not the bag', () => {
    const profile = {rows: 1000, classes: 2, medianWords: 100, p95Words: 300};
    const plan = planClassifier(profile, {overrides: {numLayers: 1, dModel: 16}});
    expect(plan).toMatchObject({preset: 'small', automatic: false, overrides: {}});
    expect(plan.reason).toMatch(/^using small .*numLayers 1 asks for transformer blocks/);
    expect(planClassifier(profile, {overrides: {vocabSize: 600}}).preset).toBe('fasttext');
  });

  it('every preset has a schedule', () => {
    expect(Object.keys(PRESET_SCHEDULES).sort()).toEqual(Object.keys(CLASSIFIER_PRESETS).sort());
  });
});
