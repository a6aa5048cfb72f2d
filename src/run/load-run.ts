import {join, resolve} from 'node:path';
import {ModelError} from '../errors.js';
import {containedFileExists} from '../fs/contained-file.js';
import {type AdapterReference, adapterReference, attachAdapterRun, modelFingerprint} from './adapter-run.js';
import {checkRunConfig, checkRunContents} from './check-run.js';
import {
  type LoadedRun,
  loadLayersModel,
  loadRunAssets,
  RUN_FILES,
  type RunConfig,
  readRunConfig,
} from './run-folder.js';
import {recoverReplacedRunLocked} from './run-lock.js';
import {runNotice} from './run-notices.js';

export interface LoadRunOptions {
  /**
   * Told when the folder was settled after a writer killed during --overwrite (its previous run put
   * back, or left aside and removed). Default: the sink set by setRunNotices (the CLI's is stderr).
   */
  onInfo?: (message: string) => void;
}

/**
 * Loads a run folder: config, model, and the tokenizer and labels when the run has them. A LoRA run
 * (config.json `adapter`) loads its base run with the adapter attached (adapter-run.ts). A folder
 * that a train/finetune/distill --overwrite killed outright left half-replaced is settled first
 * (replaced-run.ts): an unfinished new run gives way to the previous run it was replacing.
 */
export async function loadRun(dir: string, options: LoadRunOptions = {}): Promise<LoadedRun> {
  await recoverReplacedRunLocked(dir, options.onInfo ?? runNotice);
  const config = await readRunConfig(dir);
  const ref = adapterReference(config);
  if (ref) return loadAdapterRun(dir, config, ref);
  const modelDir = join(dir, RUN_FILES.model);
  if (!(await containedFileExists(dir, `${RUN_FILES.model}/${RUN_FILES.modelJson}`))) {
    throw new ModelError(
      `${dir} has no trained model (${modelDir}/model.json)`,
      'the run did not finish; train it again or --resume it',
    );
  }
  checkRunConfig(dir, config);
  const model = await loadLayersModel(modelDir, dir);
  try {
    return checked({dir, config, model, ...(await loadRunAssets(dir))});
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** `run` after the checks every run folder passes (check-run.ts). */
function checked(run: LoadedRun): LoadedRun {
  checkRunContents(run);
  return run;
}

/**
 * Loads a LoRA run: its base run (which must be unchanged since fine-tuning), with the adapter and
 * head attached; tokenizer and labels are the run's own.
 */
export async function loadAdapterRun(
  dir: string,
  config: RunConfig,
  ref: AdapterReference,
): Promise<LoadedRun> {
  const baseDir = resolve(dir, ref.base);
  const fingerprint = await modelFingerprint(baseDir);
  if (fingerprint !== ref.fingerprint) {
    throw new ModelError(
      `${dir} is a LoRA adapter over ${baseDir}, but that model changed since fine-tuning (weights differ)`,
      `restore the original base, or merge onto this one on purpose: deepseek-kit merge --model ${baseDir} --adapter ${dir} --out DIR`,
    );
  }
  const base = await loadRun(baseDir);
  try {
    const model = await attachAdapterRun(base.model, dir, ref);
    try {
      return checked({dir, config, model, ...(await loadRunAssets(dir))});
    } catch (err) {
      model.dispose();
      throw err;
    }
  } finally {
    base.model.dispose();
  }
}
