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
  /**
   * The id and label as the input row typed them, kept where that is not the string in `id` or
   * `label` (`7`, `1`, `true`, `null`, `""`). Writers put them back while `id` and `label` still say
   * the same, so 1 stays 1, true stays true and `"label": null` stays.
   */
  typed?: {id?: number | boolean; label?: number | boolean | null | ''};
}

/** The label to write for `doc`: as the input typed it, unless a step changed it. */
export function labelValue(doc: Doc): string | number | boolean | null | undefined {
  const typed = doc.typed;
  if (typed === undefined || !('label' in typed)) return doc.label;
  const t = typed.label;
  const same = t === null || t === '' ? doc.label === undefined : doc.label === String(t);
  return same ? t : doc.label;
}

/** The id to write for `doc`: as the input typed it (a number stays a number), unless a step changed it. */
export function idValue(doc: Doc): string | number | boolean {
  const t = doc.typed?.id;
  return t !== undefined && String(t) === doc.id ? t : doc.id;
}

/** What a filter says of a document: keep, or drop with a stable snake_case reason. */
export type Verdict = {keep: true} | {keep: false; reason: string; detail?: string};

export const KEEP: Verdict = Object.freeze({keep: true});

export function drop(reason: string, detail?: string): Verdict {
  return detail === undefined ? {keep: false, reason} : {keep: false, reason, detail};
}
