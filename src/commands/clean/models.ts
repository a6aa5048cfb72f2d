import {cleanFlags, runClean} from '../../cli/clean-flags.js';
import {ModelCommand} from '../../cli/model-command.js';
import type {CleanReport} from '../../data/clean.js';
import type {SnakeKeys} from '../../data/json-keys.js';
import {cleanWithModels} from '../../workflows/clean-with-models.js';

/** `clean` with --quality-model / --perplexity-model: `clean` hands over to this command. */
export default class CleanModels extends ModelCommand {
  static override hidden = true;
  static override enableJsonFlag = true;
  static override summary =
    'clean, with model checks (run through clean --quality-model / --perplexity-model).';
  static override flags = cleanFlags;

  async run(): Promise<SnakeKeys<CleanReport>> {
    const {flags} = await this.parse(CleanModels);
    await this.startBackend(flags.backend);
    return runClean(flags, this.jsonEnabled(), cleanWithModels);
  }
}
