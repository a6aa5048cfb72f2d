/**
 * deepseek-kit's browser runtime (`deepseek-kit/runtime`, or the `deepseek-kit-runtime` package):
 * loads an export and goes from text or rows to an answer — classify, predict, generate — with a
 * pure-JS tokenizer that gives the kit's ids; registers the kit's layer classes with tfjs and
 * decodes per-channel int8/int4 weights at load. No Node-only imports: `@tensorflow/tfjs` is its
 * one dependency.
 */
import './layers.js';

export {decodeWeightData, needsDecoding} from '../compress/weight-codec.js';
export type {SamplingOptions} from '../models/causal-lm/sampling.js';
export type {SpecialTokenIds, TokenizerKind} from '../tokenizer/tokenizer.js';
export {type Classification, FeatureClassifier, type FeatureRow, TextClassifier} from './classifiers.js';
export {type Generation, type GenerationOptions, LanguageModel} from './language-model.js';
export {fetchModel, type LoadLayersOptions, loadLayersModel} from './load-layers-model.js';
export {type LoadModelOptions, loadModel, type RuntimeModel} from './load-model.js';
export * from './metadata.js';
export {RuntimeTokenizer} from './tokenizer.js';

/** labels.json of an export (class names by output index). */
export async function loadLabels(url: string, fetchFunc: typeof fetch = fetch): Promise<string[]> {
  const res = await fetchFunc(url);
  if (!res.ok) throw new Error(`cannot load labels from ${url}: HTTP ${res.status}`);
  return (await res.json()) as string[];
}
