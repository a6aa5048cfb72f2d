import {Flags} from '@oclif/core';
import {BACKEND_CHOICES} from '../backend/choices.js';

/** Flags shared by every command that runs a model. */
export const modelFlags = {
  backend: Flags.string({
    summary: 'Compute backend: auto tries tensorflow-gpu, tensorflow (native), wasm, then cpu.',
    options: [...BACKEND_CHOICES],
    env: 'DSK_BACKEND',
    default: 'auto',
    helpGroup: 'BACKEND',
  }),
  seed: Flags.integer({
    summary: 'Seed for weight init, data order, dropout and sampling; same seed, same run.',
    default: 42,
    min: 0,
    helpGroup: 'BACKEND',
  }),
};
