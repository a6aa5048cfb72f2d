import {join} from 'node:path';
import {loadModelFolder} from '../compress/model-folder.js';
import {ModelError} from '../errors.js';
import {containedFileExists, FILE_LIMITS, readContainedJson} from '../fs/contained-file.js';
import {type LoadedRun, pathExists, RUN_FILES, readFolderTokenizer} from '../run/run-folder.js';
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
  if (!(await containedFileExists(dir, RUN_FILES.modelJson))) return undefined;
  // Read under the containment rule, as every file of a run (src/fs/contained-file.ts).
  const json = (await readContainedJson(dir, RUN_FILES.modelJson, {
    maxBytes: FILE_LIMITS.modelJson,
    what: 'model.json',
  })) as {userDefinedMetadata?: {deepseek_kit?: {model?: unknown}}} | null;
  const metadata = json?.userDefinedMetadata?.deepseek_kit?.model;
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
      : await readFolderTokenizer(dir, metadata.tokenizer.file);
  const model = await loadModelFolder(dir);
  return {
    dir,
    config: {...kind.exportRunConfig(metadata), export: {kitVersion: metadata.kitVersion}},
    model,
    tokenizer,
    labels: metadata.kind === 'causal-lm' ? undefined : [...metadata.labels],
  };
}

/**
 * Refuses an export folder where `command` needs the run itself: an export keeps the weights (maybe
 * int8/int4) and what a runtime reads, not the run's model config, training settings or checkpoints,
 * so quantizing, pruning, fine-tuning, distilling or merging it would give a run that only half works.
 */
export async function refuseExportFolder(dir: string, command: string, flag = '--model'): Promise<void> {
  if ((await readExportMetadata(dir)) === undefined) return;
  throw new ModelError(
    `${dir} is an export folder for the browser, and ${command} reads a run folder (config.json, model/, checkpoints)`,
    `pass the run folder it was exported from (the --model of export) as ${flag}`,
  );
}
