/**
 * Tokenizers: the Tokenizer interface and loading a tokenizer.json, the byte-level BPE and WordPiece
 * trainers (Hugging Face `tokenizers`), the raw byte tokenizer, and streaming decode.
 */
export {ByteTokenizer} from './byte-tokenizer.js';
export {HfTokenizer, type TokenizerTrainingReport} from './hf-tokenizer.js';
export {TokenStream} from './token-stream.js';
export * from './tokenizer.js';
export type {TokenizerJson} from './tokenizer-json.js';
export {type TrainTokenizerOptions, trainTokenizer} from './train-tokenizer.js';
