import {type BackendInfo, initBackend} from '../backend/backend.js';
import {modelFlags} from './flags.js';
import {KitCommand} from './kit-command.js';

/** Base of the commands that run tensors: shared flags and backend start-up with its warning on stderr. */
export abstract class ModelCommand extends KitCommand {
  static override baseFlags = modelFlags;

  protected async startBackend(backend: string | undefined): Promise<BackendInfo> {
    return initBackend({backend, onWarning: (message) => process.stderr.write(`${message}\n`)});
  }
}
