/**
 * One row of a dataset as the data steps see it. `text` and `label` are read from the fields the
 * user names (`--text-field`, `--label-field`); every other field of the input row is kept in
 * `fields` and written back out, so results trace back to their source.
 */
export interface Doc {
  /** Stable id: the input's id field, or one made from the source and line (`train.jsonl:17`). */
  id: string;
  text: string;
  label?: string;
  /** Sample weight, from `balance --strategy weight`; training reads it. */
  weight?: number;
  /** All other fields of the input row, untouched. */
  fields: Record<string, unknown>;
}

/** What a filter says of a document: keep, or drop with a stable snake_case reason. */
export type Verdict = {keep: true} | {keep: false; reason: string; detail?: string};

export const KEEP: Verdict = Object.freeze({keep: true});

export function drop(reason: string, detail?: string): Verdict {
  return detail === undefined ? {keep: false, reason} : {keep: false, reason, detail};
}
