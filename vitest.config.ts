import {availableParallelism} from 'node:os';
import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs-node's addon is loaded once per process; forks keep each test file in its own.
    pool: 'forks',
    // Vitest's default on 2 cores is one fork at a time. Much of a test file's time is single-threaded
    // (process start, addon load, tokenizers, JS-side data work), so two forks on 2 cores finish the
    // suite in ~350 s instead of ~610 s here.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
