/**
 * What both classifier kinds share: labeled rows (reading, holdout, label sets, class weights), the
 * classification loss and reports, and classification metrics.
 */
export * from './classification-metrics.js';
export * from './classifier-training.js';
export * from './labeled-data.js';
