import {Rng} from '../data/rng.js';

/**
 * Runs `fn` with `Math.random` drawn from a generator seeded by `seed`. tfjs seeds unseeded
 * initializers and `tf.dropout` masks from `Math.random()`, so weight init and dropout become a
 * function of the run seed (and of the step seed: a resumed run draws the masks an uninterrupted
 * one would). `fn` must be synchronous.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}
