/**
 * The runtime with tfjs inside: the entry of the standalone bundle, for a page without a bundler.
 * It re-exports that tfjs as `tf` (to pick a backend, or build tensors for `model.model`).
 */

export * as tf from '@tensorflow/tfjs';
export * from './index.js';
