import {describe, expect, it} from 'vitest';
import {TextSpool} from '../../../src/data/dedup/text-spool.js';

describe('TextSpool', () => {
  it('gives back every text, from the buffer and from the file after a flush', () => {
    const spool = new TextSpool();
    const texts = Array.from({length: 3000}, (_, i) => `${i} ${'naïve 東京 text '.repeat(i % 50)}`);
    const big = 'x'.repeat(3 << 20); // larger than the write buffer
    const ids = texts.map((t) => spool.add(t));
    const bigId = spool.add(big);
    for (const [i, id] of ids.entries()) expect(spool.get(id)).toBe(texts[i]);
    expect(spool.get(bigId)).toBe(big);
    expect(spool.diskBytes).toBeGreaterThan(3 << 20);
    // Buffers sized for the largest text (write and read), not for the 3,001 texts.
    expect(spool.memoryBytes).toBeLessThan(20 << 20);
    spool.close();
  });
});
