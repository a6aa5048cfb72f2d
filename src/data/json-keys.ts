/** `rowsOut` → `rows_out`, as a type. */
export type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/** A report as `--json` prints it: every key snake_case (maps keyed by the data keep their keys). */
export type SnakeKeys<T> = T extends readonly (infer U)[]
  ? SnakeKeys<U>[]
  : T extends object
    ? {[K in keyof T as K extends string ? SnakeCase<K> : K]: SnakeKeys<T[K]>}
    : T;

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, (_, a, b) => `${a}_${b.toLowerCase()}`);

/**
 * The one place the data reports turn snake_case: the library's report types stay camelCase like
 * the rest of the TypeScript API, and `--json` (and `clean --report`) print what this returns.
 * `dataKeyed` names the fields whose keys are the data's own (drop reasons, labels, op names,
 * scripts, cluster sizes): their keys are kept, and the keys of the maps inside them.
 */
export function snakeKeys<T>(value: T, dataKeyed: readonly string[] = DATA_KEYED): SnakeKeys<T> {
  const convert = (v: unknown, keepKeys: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => convert(x, false));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(v)) {
      out[keepKeys ? key : snake(key)] = convert(x, keepKeys || dataKeyed.includes(key));
    }
    return out;
  };
  return convert(value, false) as SnakeKeys<T>;
}

/** The inverse of `snakeKeys`: a `--json` report read back (by `clean --workers`) as the library type. */
export function camelKeys<T>(value: unknown, dataKeyed: readonly string[] = DATA_KEYED): T {
  const convert = (v: unknown, keepKeys: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => convert(x, false));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(v)) {
      const name = keepKeys ? key : key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
      out[name] = convert(x, keepKeys || dataKeyed.includes(name));
    }
    return out;
  };
  return convert(value, false) as T;
}

/**
 * Fields of the data reports keyed by the data: drop reasons, cluster sizes, label counts and
 * shares, new rows per op, weights per label, files per split, scripts. (`split` adds its
 * `labels`, split → label → rows; `stats` has a `labels` distribution with keys of its own.)
 */
export const DATA_KEYED = ['dropped', 'sizes', 'counts', 'shares', 'byOp', 'weights', 'files', 'scripts'];
