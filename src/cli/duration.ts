import {ConfigError} from '../errors.js';

const UNITS: Record<string, number> = {'': 1, s: 1, m: 60, h: 3600};

/** `90`, `90s`, `5m`, `1.5h` → seconds; anything else is a ConfigError naming the flag. */
export function parseDuration(value: string, flag = 'budget'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/i.exec(value);
  const seconds = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(seconds > 0)) {
    throw new ConfigError(`--${flag} "${value}" is not a duration`, 'write it as 90s, 5m or 1h');
  }
  return seconds;
}
