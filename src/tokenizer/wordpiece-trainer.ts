import {continueMerges, initialSymbols, joinSymbols} from './continue-merges.js';
import {nativeTokenizers} from './hf-tokenizer.js';
import {specialAddedTokens, type TokenizerJson} from './tokenizer-json.js';
import {vocabTooSmall} from './truncate-vocab.js';

const PREFIX = '##';

export interface WordPieceTrainOptions {
  vocabSize: number;
  /** Special tokens, at ids 0..n-1; must include `[UNK]`. */
  specials: readonly string[];
  /** Lowercase and strip accents ("uncased"). */
  lowercase: boolean;
}

/**
 * A BERT-style WordPiece vocabulary of `vocabSize` ids: the text is normalized and split into words
 * by the `tokenizers` package's BERT normalizer and pre-tokenizer (the same the tokenizer uses to
 * encode), then pieces are learnt as BPE merges with a `##` continuing prefix, as Hugging Face's
 * WordPiece trainer learns them. Vocabulary: specials, the characters, the `##` characters, then the
 * pieces in the order learnt. A word with a character outside them encodes as `[UNK]`.
 */
export function trainWordPiece(
  texts: Iterable<string>,
  options: WordPieceTrainOptions,
): {json: TokenizerJson; shortBy: number} {
  const tk = nativeTokenizers();
  const normalizer = tk.bertNormalizer({lowercase: options.lowercase});
  const pre = tk.bertPreTokenizer();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const [word] of pre.preTokenizeString(normalizer.normalizeString(text))) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const alphabet = initialSymbols(counts.keys(), PREFIX);
  const {vocabSize, specials} = options;
  const minimum = specials.length + alphabet.length;
  if (vocabSize < minimum) {
    throw vocabTooSmall(
      vocabSize,
      minimum,
      `${specials.length} special tokens and the text's ${alphabet.length} characters`,
    );
  }
  const vocab: Record<string, number> = {};
  let size = 0;
  for (const token of [...specials, ...alphabet]) vocab[token] = size++;
  for (const [a, b] of continueMerges(counts, [], alphabet, vocabSize - size, PREFIX)) {
    const token = joinSymbols(a, b, PREFIX);
    if (!Object.hasOwn(vocab, token)) vocab[token] = size++;
  }
  const json: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialAddedTokens(specials.map((t, i) => [t, i])),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: options.lowercase,
    },
    pre_tokenizer: {type: 'BertPreTokenizer'},
    post_processor: null,
    decoder: {type: 'WordPiece', prefix: PREFIX, cleanup: true},
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: PREFIX,
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  return {json, shortBy: vocabSize - size};
}
