import {KitCommand} from '../cli/kit-command.js';

/** What `version --json` prints. */
export interface VersionReport {
  name: string;
  version: string;
  node: string;
  platform: string;
  arch: string;
}

export default class Version extends KitCommand {
  static override enableJsonFlag = true;
  static override summary = 'Print the deepseek-kit version (as --version and -v do).';
  static override description =
    'One line: package/version platform-arch node-version. `info` adds tfjs, the backend and the machine.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
  ];

  async run(): Promise<VersionReport> {
    await this.parse(Version);
    const {name, version, platform, arch} = this.config;
    this.log(this.config.userAgent);
    return {name, version, node: process.version, platform, arch};
  }
}
