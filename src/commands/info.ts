import {Flags} from '@oclif/core';
import {formatInfo, getInfo, type KitInfo} from '../backend/info.js';
import {ModelCommand} from '../cli/model-command.js';

export default class Info extends ModelCommand {
  static override enableJsonFlag = true;
  static override summary = 'Show versions, the compute backend in use and why, and the machine.';
  static override description =
    'Reports the package and tfjs versions, which backend was chosen (and why the faster ones were not), ' +
    'the TensorFlow C library version and path, threads and CPU flags. --probe times a matmul on each backend.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --probe --json',
  ];
  static override flags = {
    probe: Flags.boolean({summary: 'Time a 1024² matmul (GFLOPS) on each backend that loads (~2 s).'}),
  };

  async run(): Promise<KitInfo> {
    const {flags} = await this.parse(Info);
    const info = await getInfo({
      backend: flags.backend,
      probe: flags.probe,
      onWarning: (message) => process.stderr.write(`${message}\n`),
    });
    if (!this.jsonEnabled()) this.log(formatInfo(info));
    return info;
  }
}
