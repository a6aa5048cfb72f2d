import {Command} from '@oclif/core';
import {type BackendInfo, initBackend} from '../backend/backend.js';
import {modelFlags} from './flags.js';

/** Base of the commands that run tensors: shared flags and backend start-up with its warning on stderr. */
export abstract class ModelCommand extends Command {
  static override baseFlags = modelFlags;

  protected async startBackend(backend: string | undefined): Promise<BackendInfo> {
    return initBackend({backend, onWarning: (message) => process.stderr.write(`${message}\n`)});
  }
}
