import {execFile} from 'node:child_process';
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {ConfigError, DatasetError} from '../errors.js';
import {byteLevelWordCounts, continueMerges} from './continue-merges.js';
import {HfTokenizer} from './hf-tokenizer.js';
import {TRAINED_SPECIAL_TOKENS} from './tokenizer.js';
import {specialAddedTokens, type TokenizerJson} from './tokenizer-json.js';
import {truncateByteLevelBpe} from './truncate-vocab.js';
import {trainWordPiece} from './wordpiece-trainer.js';

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
const TRAIN_BPE_SCRIPT = `
const [modulePath, configJson] = process.argv.slice(1);
const tk = require(modulePath);
const c = JSON.parse(configJson);
const t = new tk.Tokenizer(tk.BPE.empty());
t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
t.train(c.files);
t.save(c.out, false);
`;

/** The default trainer stops at this many tokens (Hugging Face's `BpeTrainer::default()`). */
export const NATIVE_TRAINER_CAP = 30_000;

/**
 * Trains a tokenizer with the special tokens at ids 0..5. Byte-level BPE: Hugging Face's Rust
 * trainer, its merge list cut to `vocabSize` (truncate-vocab.ts), continued in TypeScript past the
 * trainer's cap (continue-merges.ts). WordPiece: wordpiece-trainer.ts (the native WordPiece trainer
 * gives a different vocabulary on every run).
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
    const {json, shortBy} =
      options.kind === 'bpe'
        ? await trainByteLevelBpe(files, dir, specials, options.vocabSize)
        : trainWordPiece(await readAll(files), {
            vocabSize: options.vocabSize,
            specials,
            lowercase: options.lowercase ?? true,
          });
    const tokenizer = HfTokenizer.fromJSON(json, 'trained tokenizer', options.kind);
    tokenizer.training = {
      requestedVocabSize: options.vocabSize,
      vocabSize: tokenizer.vocabSize,
      ...(shortBy > 0 ? {limitedBy: 'data' as const} : {}),
      seconds: (performance.now() - started) / 1000,
    };
    return tokenizer;
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

const readAll = (files: readonly string[]) => Promise.all(files.map((f) => readFile(f, 'utf8')));

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

async function trainByteLevelBpe(
  files: readonly string[],
  dir: string,
  specials: readonly string[],
  vocabSize: number,
): Promise<{json: TokenizerJson; shortBy: number}> {
  const out = join(dir, 'trained.json');
  try {
    await run(
      process.execPath,
      ['-e', TRAIN_BPE_SCRIPT, require.resolve('tokenizers'), JSON.stringify({files, out})],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch (err) {
    const stderr = String((err as {stderr?: string}).stderr ?? '').trim();
    throw new Error(`tokenizer training failed: ${stderr.split('\n').at(-1) || (err as Error).message}`);
  }
  const trained = JSON.parse(await readFile(out, 'utf8')) as TokenizerJson;
  let cut = truncateByteLevelBpe(trained.model, specials, vocabSize);
  // Stopped by its own cap rather than by the text: keep merging where it stopped.
  if (cut.shortBy > 0 && Object.keys(trained.model.vocab ?? {}).length >= NATIVE_TRAINER_CAP) {
    const more = continueMerges(
      byteLevelWordCounts(await readAll(files)),
      cut.merges!,
      Object.keys(cut.vocab),
      cut.shortBy,
    );
    cut = truncateByteLevelBpe({...trained.model, merges: [...cut.merges!, ...more]}, specials, vocabSize);
  }
  // The JS API has no ByteLevel decoder to set before training; the JSON format does.
  const byteLevel = {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true};
  return {
    shortBy: cut.shortBy,
    json: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specialAddedTokens(specials.map((t, i) => [t, i])),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: null,
      decoder: byteLevel,
      model: {...trained.model, unk_token: null, vocab: cut.vocab, merges: cut.merges},
    },
  };
}
