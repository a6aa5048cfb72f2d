import {describe, expect, it} from 'vitest';
import {stripHtml} from '../../../src/data/filters/strip-html.js';
import {fixtureDocs} from '../fixture-docs.js';

describe('stripHtml', () => {
  it('turns <br /> into line breaks and decodes entities', () => {
    expect(stripHtml('Good.<br /><br />Bad &amp; ugly &#8212; <i>really</i>&hellip;')).toBe(
      'Good.\n\nBad & ugly — really…',
    );
  });

  it('leaves text without markup alone, and no tag in the IMDB fixture survives', () => {
    expect(stripHtml('3 < 4 and 5 > 2')).toBe('3 < 4 and 5 > 2');
    const tagged = fixtureDocs().filter((d) => d.text.includes('<br'));
    expect(tagged.length).toBe(756);
    for (const d of tagged) expect(stripHtml(d.text)).not.toMatch(/<\/?[a-z]+[^>]*>/i);
  });
});
