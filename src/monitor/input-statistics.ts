/** The names of the drift statistics: a reference and a live window use the same ones. */
export const DRIFT_STATISTICS = {
  /** Tokens per input (before any cut to the model's length). */
  inputLength: 'input_length',
  /** Share of an input's tokens that are the unknown token. */
  oovRate: 'oov_rate',
  /** The label the model predicts. */
  predictedLabel: 'predicted_label',
} as const;

/** Length and out-of-vocabulary share of one input's token ids (`unk`: the tokenizer's unknown id, if any). */
export function tokenStatistics(
  ids: readonly number[],
  unk: number | undefined,
): {length: number; oovRate: number} {
  if (ids.length === 0 || unk === undefined) return {length: ids.length, oovRate: 0};
  let unknown = 0;
  for (const id of ids) if (id === unk) unknown++;
  return {length: ids.length, oovRate: unknown / ids.length};
}
