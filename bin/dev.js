#!/usr/bin/env -S node --import tsx
// Runs the CLI from the TypeScript sources, without a build: for working on the kit itself.
import {main} from '../src/cli/main.ts';

await main(import.meta.url, {development: true});
