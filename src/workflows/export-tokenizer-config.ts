import type {ModelMetadata} from '../models/model-kind.js';
import type {SpecialRole, Tokenizer} from '../tokenizer/tokenizer.js';

/**
 * tokenizer_config.json as Python transformers reads it beside a tokenizer.json
 * (`AutoTokenizer.from_pretrained(EXPORT_DIR)` → a PreTrainedTokenizerFast): the special tokens by
 * role (as strings), the most tokens the model reads, and on which side the kit pads and cuts.
 * Without it the fast tokenizer has no pad token (so `padding=True` fails) and no max length.
 */
export interface HfTokenizerConfig {
  tokenizer_class: 'PreTrainedTokenizerFast';
  /** Classifiers: their maxLen; language models: their context length. */
  model_max_length: number;
  /** The kit pads and cuts texts at the end. */
  padding_side: 'right';
  truncation_side: 'right';
  /** The model reads ids only (a classifier masks pad ids itself). */
  model_input_names: ['input_ids'];
  /** Decoding gives the text back as the kit decodes it, spaces untouched. */
  clean_up_tokenization_spaces: false;
  /**
   * Raw-byte tokenizers: a text holding "[BOS]" is read as its bytes, as the kit reads it (Hugging
   * Face tokenizers otherwise match special tokens inside the text).
   */
  split_special_tokens?: true;
  pad_token?: string;
  unk_token?: string;
  bos_token?: string;
  eos_token?: string;
  cls_token?: string;
  sep_token?: string;
}

const ROLES: readonly SpecialRole[] = ['pad', 'unk', 'bos', 'eos', 'cls', 'sep'];

/** The tokenizer_config.json of a text model's export; undefined for a model without a tokenizer. */
export function hfTokenizerConfig(
  tokenizer: Tokenizer | undefined,
  meta: ModelMetadata,
): HfTokenizerConfig | undefined {
  const maxLength = meta.maxLen ?? meta.contextLength;
  if (!tokenizer || maxLength === undefined) return undefined;
  const config: HfTokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    padding_side: 'right',
    truncation_side: 'right',
    model_input_names: ['input_ids'],
    clean_up_tokenization_spaces: false,
    ...(tokenizer.kind === 'byte' ? {split_special_tokens: true as const} : {}),
  };
  for (const role of ROLES) {
    const id = tokenizer.special[role];
    const token = id === undefined ? undefined : tokenizer.idToToken(id);
    if (token !== undefined) config[`${role}_token`] = token;
  }
  return config;
}
