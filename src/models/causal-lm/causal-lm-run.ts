import type * as tf from '@tensorflow/tfjs';
import {ModelError} from '../../errors.js';
import type {LoadedRun} from '../../run/run-folder.js';
import type {Tokenizer} from '../../tokenizer/tokenizer.js';
import type {OpenRun} from '../model-kind.js';
import type {CausalLMConfig} from './causal-lm.js';

/** A loaded language-model run: model, tokenizer and the config it was built from. */
export interface LanguageModelRun extends OpenRun {
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  config: CausalLMConfig;
  textField: string;
}

/** Checks that a loaded run is a language model with its tokenizer. */
export function asLanguageModelRun(run: LoadedRun): LanguageModelRun {
  if (run.config.task !== 'lm')
    throw new ModelError(`${run.dir} is a "${run.config.task}" run, not a language model`);
  if (!run.tokenizer) throw new ModelError(`${run.dir} has no tokenizer.json`, 'copy the whole run folder');
  const data = (run.config.data ?? {}) as {textField?: string};
  return {
    dir: run.dir,
    runConfig: run.config,
    model: run.model,
    tokenizer: run.tokenizer,
    config: run.config.model as CausalLMConfig,
    textField: data.textField ?? 'text',
  };
}
