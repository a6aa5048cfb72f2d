import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {loadModelFolder} from '../compress/model-folder.js';
import {ModelError} from '../errors.js';
import {type LoadedRun, pathExists, RUN_FILES} from '../run/run-folder.js';
import {loadTokenizer} from '../tokenizer/tokenizer.js';
import {type ExportMetadata, parseExportMetadata} from './export-metadata.js';
import type {ModelKind} from './model-kind.js';

/**
 * An export folder (`deepseek-kit export`): model.json carrying the kit's metadata, the weights,
 * tokenizer.json; no config.json. Undefined for anything else (a run folder, a missing folder), which
 * the run loader then reads or explains. An export of an older kit without metadata is a ModelError.
 */
export async function readExportMetadata(dir: string): Promise<ExportMetadata | undefined> {
  if (await pathExists(join(dir, RUN_FILES.config))) return undefined;
  const modelJson = join(dir, RUN_FILES.modelJson);
  const text = await readFile(modelJson, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let json: {userDefinedMetadata?: {deepseek_kit?: {model?: unknown}}};
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${modelJson} is not JSON: ${(err as Error).message}`, 'export the model again');
  }
  const metadata = json.userDefinedMetadata?.deepseek_kit?.model;
  if (metadata === undefined) {
    throw new ModelError(
      `${dir} is neither a run folder (no config.json) nor an export of this kit (${modelJson} has no deepseek-kit metadata)`,
      'pass a run folder, or export the run again with deepseek-kit export',
    );
  }
  return parseExportMetadata(metadata, modelJson);
}

/**
 * Loads an export folder as the run it came from: its model (int8/int4 weights decoded), its
 * tokenizer and labels, and the run config `kind` derives from the metadata; `kind.open` then
 * gives the typed run, so every workflow that opens runs reads exports too.
 */
export async function loadExportFolder(
  dir: string,
  metadata: ExportMetadata,
  kind: ModelKind,
): Promise<LoadedRun> {
  const tokenizer =
    metadata.kind === 'feature-classifier'
      ? undefined
      : await loadTokenizer(join(dir, metadata.tokenizer.file));
  const model = await loadModelFolder(dir);
  return {
    dir,
    config: {...kind.exportRunConfig(metadata), export: {kitVersion: metadata.kitVersion}},
    model,
    tokenizer,
    labels: metadata.kind === 'causal-lm' ? undefined : [...metadata.labels],
  };
}
