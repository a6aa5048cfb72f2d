// deepseek-kit's library API: everything a command does can be done from here, with types.
export * from './backend/backend.js';
export * from './backend/info.js';
export * from './backend/probe.js';
export * from './backend/system.js';
export * from './errors.js';
export * from './data/augment.js';
export {sharedWordNet, WordNet, type WordNetPos} from './data/augment/wordnet.js';
export * from './data/balance.js';
export * from './data/label-distribution.js';
export * from './data/run-balance.js';
export * from './data/run-split.js';
export * from './data/split.js';
export * from './data/stats.js';
