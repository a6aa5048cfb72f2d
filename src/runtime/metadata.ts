/** The export metadata the runtime reads: defined beside the model kinds that write it. */
export * from '../models/export-metadata.js';
