/**
 * What both classifier kinds share: labeled rows (reading, holdout, label sets, class weights), the
 * classification loss and reports, classification metrics, and the TF-IDF + logistic regression
 * baseline (vectorizer, L-BFGS, multinomial logistic regression) that `evaluate --baseline` fits.
 */
export * from './classification-metrics.js';
export * from './classifier-training.js';
export * from './labeled-data.js';
export * from './lbfgs.js';
export * from './logistic-regression.js';
export * from './tfidf-baseline.js';
export * from './tfidf-vectorizer.js';
