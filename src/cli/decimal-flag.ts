import {Errors, Flags} from '@oclif/core';

/**
 * Where a decimal flag's value may lie. Bounds are inclusive unless marked exclusive. (A type, not an
 * interface: oclif's custom flag options must be assignable to a string-keyed record.)
 */
export type DecimalBounds = {
  /** Smallest allowed value. Default: none. */
  min?: number;
  /** Largest allowed value. Default: none. */
  max?: number;
  /** `min` itself is not allowed (`(0, 1]`). Default false. */
  minExclusive?: boolean;
  /** `max` itself is not allowed (`[0, 1)`). Default false. */
  maxExclusive?: boolean;
};

/** `in [0, 1)`, `> 0`, `≤ 5` (empty: no bounds): the bounds as errors and `--help` show them. */
export function describeBounds(b: DecimalBounds): string {
  const hasMin = b.min !== undefined;
  const hasMax = b.max !== undefined;
  if (hasMin && hasMax)
    return `in ${b.minExclusive ? '(' : '['}${b.min}, ${b.max}${b.maxExclusive ? ')' : ']'}`;
  if (hasMin) return `${b.minExclusive ? '>' : '≥'} ${b.min}`;
  if (hasMax) return `${b.maxExclusive ? '<' : '≤'} ${b.max}`;
  return '';
}

/** Decimal notation only: `Number` would also take `0x1f`, `Infinity` and an empty string (0). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Parses a decimal flag value (`3e-4`, `0.5`, `2`) and checks it against its bounds. A value that is
 * not a finite decimal number or lies outside is a usage error naming the flag, the value and the
 * bounds.
 */
export function parseDecimal(text: string, flag: string, bounds: DecimalBounds = {}): number {
  const x = DECIMAL.test(text.trim()) ? Number(text) : Number.NaN;
  const {min, max} = bounds;
  const ok =
    Number.isFinite(x) &&
    (min === undefined || (bounds.minExclusive ? x > min : x >= min)) &&
    (max === undefined || (bounds.maxExclusive ? x < max : x <= max));
  if (!ok) {
    const range = describeBounds(bounds);
    throw new Errors.CLIError(`${flag} must be a number${range && ` ${range}`}, got "${text}"`, {exit: 1});
  }
  return x;
}

const definition = Flags.custom<number, DecimalBounds>({
  helpValue: '<number>',
  parse: async (input, _context, flag) => parseDecimal(input, `--${flag.name}`, flag),
});

/**
 * A decimal flag with bounds, for every non-integer number the CLI takes (learning rates, ratios,
 * thresholds): `decimalFlag({summary: '…', default: 0.5, min: 0, max: 1})`, typed like
 * `Flags.integer` (a default or `required` makes the value non-optional). The summary gets the
 * bounds appended, so `--help` shows them.
 */
export const decimalFlag = ((options: DecimalBounds & {summary?: string}) => {
  const range = describeBounds(options);
  const shown = range && ` Must be ${range}.`;
  return definition({...options, summary: `${options.summary ?? ''}${shown}`.trim()} as never);
}) as typeof definition;
