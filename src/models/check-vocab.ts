import {ConfigError} from '../errors.js';
import type {Tokenizer} from '../tokenizer/tokenizer.js';
import {readConfigFile} from './model-config.js';

/**
 * With `--tokenizer FILE` the model's vocabulary is the tokenizer's. A vocabulary size asked for as
 * well (`--vocab-size`, or `vocabSize` in `--config`) that differs is a contradiction, not a request
 * to resize the tokenizer: refuse it, naming both sizes and where each came from.
 */
export async function checkTokenizerVocab(
  tokenizer: Tokenizer,
  tokenizerFile: string,
  asked: {vocabSize?: number; configFile?: string},
): Promise<void> {
  let size = asked.vocabSize;
  let source = '--vocab-size';
  if (size === undefined && asked.configFile !== undefined) {
    const value = (await readConfigFile(asked.configFile)).vocabSize;
    if (typeof value === 'number') {
      size = value;
      source = `vocabSize in ${asked.configFile}`;
    }
  }
  if (size === undefined || size === tokenizer.vocabSize) return;
  throw new ConfigError(
    `${source} is ${size}, but the tokenizer ${tokenizerFile} has ${tokenizer.vocabSize} ids`,
    `drop ${source === '--vocab-size' ? '--vocab-size' : 'vocabSize from the config'} to use the tokenizer's vocabulary, or omit --tokenizer to train one of ${size}`,
  );
}
