import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {type BrowserContext, chromium} from 'playwright-core';

/** Debian's chromium (apt-get install chromium): what the browser tests drive. */
export const CHROMIUM = '/usr/bin/chromium';

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a throwaway profile and no network of its own (no sync, updates, QUIC);
 * the GPU (WebGL) off unless `webgl` (benchmarks time that backend too).
 */
export async function launchChromium(options: {webgl?: boolean} = {}): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'dsk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      ...(options.webgl ? [] : ['--disable-gpu']),
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, {recursive: true, force: true});
    },
  };
}
