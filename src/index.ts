// deepseek-kit's library API: everything a command does can be done from here, with types.
export * from './backend/backend.js';
export * from './backend/info.js';
export * from './backend/probe.js';
export * from './backend/system.js';
export * from './errors.js';
