// Bundled by test/runtime/browser.test.ts for the page: the tokenizer's character-class steps, to
// compare with the `tokenizers` binding code point by code point in Chromium's Unicode.
export {bertNormalize, bertPreTokenize} from '../../src/runtime/tokenizer/bert-text.js';
export {byteLevelWords} from '../../src/runtime/tokenizer/byte-level-bpe.js';
