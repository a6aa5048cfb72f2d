import {Command} from '@oclif/core';
import {setRunNotices} from '../run/run-notices.js';

/**
 * Base of every deepseek-kit command. Errors are not printed here: they go up to `main`, which
 * reports each one the same way (one line on stderr, or one short JSON object under `--json`) with
 * the kit's exit codes. oclif's own `catch` would print the whole error object, config included,
 * under `--json`.
 */
export abstract class KitCommand extends Command {
  /** A run folder settled on load (a killed --overwrite) is told on stderr, like every other notice. */
  public override async init(): Promise<void> {
    await super.init();
    setRunNotices((message) => process.stderr.write(`${message}\n`));
  }

  protected override async catch(error: Error): Promise<never> {
    throw error;
  }
}
