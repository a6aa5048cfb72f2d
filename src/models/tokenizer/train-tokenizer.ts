import {execFile} from 'node:child_process';
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {ConfigError, DatasetError} from '../../errors.js';
import {TRAINED_SPECIAL_TOKENS} from '../tokenizer.js';
import {byteLevelWordCounts, continueMerges} from './bpe-continue.js';
import {HfTokenizer} from './hf-tokenizer.js';
import {specialAddedTokens, type TokenizerJson} from './tokenizer-json.js';
import {truncateByteLevelBpe, truncateWordPiece} from './truncate-vocab.js';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

export interface TrainTokenizerOptions {
  /** `bpe`: byte-level BPE (lossless, any byte; for language models). `wordpiece`: BERT-style, `[UNK]` for unseen characters. */
  kind: 'bpe' | 'wordpiece';
  /**
   * Ids in the vocabulary, special tokens included. The result has exactly this many unless the text
   * runs out of merges. BPE has no upper limit; WordPiece stops at the native trainer's 30,000.
   */
  vocabSize: number;
  /** Training text, one document per item. Give `texts` or `files`. */
  texts?: Iterable<string>;
  /** Plain-text files to train on, read line by line. */
  files?: string[];
  /** WordPiece only: lowercase and strip accents ("uncased"). Default true. */
  lowercase?: boolean;
}

/**
 * The `tokenizers` package trains with its default trainer (`Tokenizer.train(files)` takes no
 * options, so the vocabulary stops at 30,000; and it draws progress bars and blank lines on the
 * process's own stdout), so training runs in a child process whose output is discarded.
 */
const TRAIN_SCRIPT = `
const [modulePath, configJson] = process.argv.slice(1);
const tk = require(modulePath);
const c = JSON.parse(configJson);
let t;
if (c.kind === 'bpe') {
  t = new tk.Tokenizer(tk.BPE.empty());
  t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
} else {
  t = new tk.Tokenizer(tk.WordPiece.empty());
  t.setNormalizer(tk.bertNormalizer({lowercase: c.lowercase}));
  t.setPreTokenizer(tk.bertPreTokenizer());
}
t.train(c.files);
t.save(c.out, false);
`;

/** The default trainer stops at this many tokens (Hugging Face's `BpeTrainer::default()`). */
export const NATIVE_TRAINER_CAP = 30_000;

/**
 * Trains a byte-level BPE or WordPiece tokenizer with Hugging Face's Rust trainer, then cuts its
 * merge list to `vocabSize` (see truncate-vocab.ts) with the special tokens at ids 0..5; BPE asked
 * for more than the trainer's cap continues training in TypeScript (bpe-continue.ts).
 */
export async function trainTokenizer(options: TrainTokenizerOptions): Promise<HfTokenizer> {
  const started = performance.now();
  const specials = TRAINED_SPECIAL_TOKENS.map(([, token]) => token);
  if (!Number.isInteger(options.vocabSize) || options.vocabSize <= specials.length) {
    throw new ConfigError(
      `vocabulary size must be an integer above ${specials.length}, got ${options.vocabSize}`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'dsk-tokenizer-'));
  try {
    const files = await trainingFiles(options, dir);
    const out = join(dir, 'trained.json');
    const config = {kind: options.kind, lowercase: options.lowercase ?? true, files, out};
    try {
      await run(
        process.execPath,
        ['-e', TRAIN_SCRIPT, require.resolve('tokenizers'), JSON.stringify(config)],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
    } catch (err) {
      const stderr = String((err as {stderr?: string}).stderr ?? '').trim();
      throw new Error(`tokenizer training failed: ${stderr.split('\n').at(-1) || (err as Error).message}`);
    }
    const trained = JSON.parse(await readFile(out, 'utf8')) as TokenizerJson;
    if (options.kind === 'bpe') await continuePastCap(trained, files, specials, options.vocabSize);
    const json = finalJson(options.kind, trained, specials, options.vocabSize);
    const tokenizer = HfTokenizer.fromJSON(json.json, 'trained tokenizer', options.kind);
    tokenizer.training = {
      requestedVocabSize: options.vocabSize,
      vocabSize: tokenizer.vocabSize,
      ...(json.shortBy > 0 ? {limitedBy: 'data' as const} : {}),
      seconds: (performance.now() - started) / 1000,
    };
    return tokenizer;
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

async function trainingFiles(options: TrainTokenizerOptions, dir: string): Promise<string[]> {
  if (options.texts && options.files)
    throw new DatasetError('give texts or files to train a tokenizer, not both');
  if (options.files) {
    if (options.files.length === 0) throw new DatasetError('no files to train the tokenizer on');
    let bytes = 0;
    for (const file of options.files) {
      try {
        bytes += (await stat(file)).size;
      } catch {
        throw new DatasetError(`${file}: cannot read it to train the tokenizer`, 'check the path');
      }
    }
    if (bytes === 0)
      throw new DatasetError(`${options.files.join(', ')}: empty — no text to train a tokenizer on`);
    return options.files;
  }
  const texts = [...(options.texts ?? [])];
  if (!texts.some((t) => t.trim().length > 0)) {
    throw new DatasetError('no text to train a tokenizer on: every training text is empty');
  }
  const file = join(dir, 'texts.txt');
  await writeFile(file, texts.join('\n'));
  return [file];
}

const hitCap = (trained: TokenizerJson) =>
  Object.keys(trained.model.vocab ?? {}).length >= NATIVE_TRAINER_CAP;

/**
 * Byte-level BPE beyond the native trainer's cap: when it stopped at its cap short of the request,
 * the merge list is extended in place by continuing training on the same text (bpe-continue.ts).
 */
async function continuePastCap(
  trained: TokenizerJson,
  files: readonly string[],
  specials: readonly string[],
  vocabSize: number,
): Promise<void> {
  const {shortBy, vocab, merges} = truncateByteLevelBpe(trained.model, specials, vocabSize);
  if (shortBy <= 0 || !hitCap(trained)) return;
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const more = continueMerges(byteLevelWordCounts(texts), merges!, Object.keys(vocab), shortBy);
  trained.model.merges = [...merges!, ...more];
}

/**
 * A vocabulary short of the request because the trainer hit its own cap (not because the text ran
 * out of pairs) would hide that the text supports more: refuse with the size that works.
 */
function checkTrainerCap(trained: TokenizerJson, vocabSize: number): void {
  if (!hitCap(trained)) return;
  throw new ConfigError(
    `vocabulary size ${vocabSize} is above what the tokenizers library's trainer learns (${NATIVE_TRAINER_CAP} tokens)`,
    `use --vocab-size ${NATIVE_TRAINER_CAP} or less`,
  );
}

/** The `tokenizer.json` of the trained tokenizer cut to `vocabSize`, specials first. */
function finalJson(
  kind: 'bpe' | 'wordpiece',
  trained: TokenizerJson,
  specials: readonly string[],
  vocabSize: number,
): {json: TokenizerJson; shortBy: number} {
  const cut =
    kind === 'bpe'
      ? truncateByteLevelBpe(trained.model, specials, vocabSize)
      : truncateWordPiece(trained.model, specials, vocabSize);
  if (cut.shortBy > 0 && kind === 'wordpiece') checkTrainerCap(trained, vocabSize);
  // The JS API has no ByteLevel decoder to set before training; the JSON format does.
  const byteLevel = {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true};
  const parts =
    kind === 'bpe'
      ? {
          normalizer: null,
          pre_tokenizer: byteLevel,
          decoder: byteLevel,
          model: {...trained.model, unk_token: null, vocab: cut.vocab, merges: cut.merges},
        }
      : {
          normalizer: trained.normalizer,
          pre_tokenizer: trained.pre_tokenizer,
          decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
          model: {...trained.model, unk_token: '[UNK]', vocab: cut.vocab},
        };
  return {
    shortBy: cut.shortBy,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specialAddedTokens(specials.map((t, i) => [t, i])),
      post_processor: null,
      ...parts,
    },
  };
}
