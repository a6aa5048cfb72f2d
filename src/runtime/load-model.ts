import {ModelError} from '../errors.js';
import type {TokenizerJson} from '../tokenizer/tokenizer-json.js';
import {FeatureClassifier, TextClassifier} from './classifiers.js';
import {LanguageModel} from './language-model.js';
import {fetchModel, type LoadLayersOptions, layersModelFrom} from './load-layers-model.js';
import {type ExportMetadata, parseExportMetadata} from './metadata.js';
import {RuntimeTokenizer} from './tokenizer.js';

/** What `loadModel` returns, by the export's kind: `classify`, `predict` or `generate`. */
export type RuntimeModel = TextClassifier | FeatureClassifier | LanguageModel;

export interface LoadModelOptions extends LoadLayersOptions {
  /** The export's metadata, for a model.json that does not carry it (exports of older kits). */
  metadata?: ExportMetadata;
}

/**
 * Loads an export from the URL of its model.json into an object that goes from input to answer:
 * a text classifier (`classify(texts)`), a numeric-feature classifier (`predict(rows)`) or a
 * language model (`generate(prompt)`), as the export's metadata says. Its tokenizer.json is read
 * by the runtime's own tokenizer; nothing outside the model's folder is fetched.
 */
export async function loadModel(url: string, options: LoadModelOptions = {}): Promise<RuntimeModel> {
  const {artifacts, fetchInFolder, folder} = await fetchModel(url, options);
  const stored = (artifacts.userDefinedMetadata?.deepseek_kit as {model?: unknown} | undefined)?.model;
  const metadata = parseExportMetadata(options.metadata ?? stored, url);
  const tokenizer =
    metadata.kind === 'feature-classifier'
      ? undefined
      : await fetchTokenizer(metadata, folder, fetchInFolder);
  const model = await layersModelFrom(artifacts);
  switch (metadata.kind) {
    case 'text-classifier':
      return new TextClassifier(model, tokenizer!, metadata);
    case 'feature-classifier':
      return new FeatureClassifier(model, metadata);
    case 'causal-lm':
      return new LanguageModel(model, tokenizer!, metadata);
  }
}

async function fetchTokenizer(
  metadata: Exclude<ExportMetadata, {kind: 'feature-classifier'}>,
  folder: URL,
  fetchInFolder: typeof fetch,
): Promise<RuntimeTokenizer> {
  const url = new URL(metadata.tokenizer.file, folder).href;
  const json = (await (await fetchInFolder(url)).json().catch((err: Error) => {
    throw new ModelError(`${url} is not JSON: ${err.message}`, 'export the model again');
  })) as TokenizerJson;
  return RuntimeTokenizer.fromJSON(json, {kind: metadata.tokenizer.kind, special: metadata.specialTokens});
}
