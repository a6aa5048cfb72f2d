import {closeSync, existsSync, openSync} from 'node:fs';
import {ConfigError} from '../../errors.js';
import {RecordReader, readBytes} from './record-file.js';
import {readSignRecord, type SignRecord, signStride} from './sign-stage.js';
import {type StagePlan, workPaths} from './stage-plan.js';

/** Every shard's sign file and spool, open for the later stages: walk them, or read one row. */
export class SignFiles {
  readonly readers: RecordReader[] = [];
  private readonly spools: number[] = [];

  constructor(
    readonly plan: StagePlan,
    work: string,
  ) {
    const paths = workPaths(work);
    for (let i = 0; i < plan.shards; i++) {
      if (!existsSync(paths.sign(i))) {
        this.close();
        throw new ConfigError(
          `${paths.sign(i)} is missing: shard ${i} has not been signed`,
          `run \`clean stage sign --work ${work} --shard ${i}/${plan.shards}\` (every shard) first`,
        );
      }
      this.readers.push(new RecordReader(paths.sign(i), signStride(plan)));
      this.spools.push(openSync(paths.spool(i), 'r'));
    }
  }

  /** Calls `visit` for every row of every shard, shard by shard. */
  forEach(visit: (record: SignRecord, view: DataView, shard: number, index: number) => void): void {
    for (const [shard, reader] of this.readers.entries()) {
      const walk = new RecordReader(reader.path, reader.stride);
      try {
        for (let index = 0, v = walk.read(); v; v = walk.read(), index++)
          visit(readSignRecord(v), v, shard, index);
      } finally {
        walk.close();
      }
    }
  }

  /** Row `index` of `shard` (the view is valid until the next `record` on that shard). */
  record(shard: number, index: number): {record: SignRecord; view: DataView} {
    const view = this.readers[shard]!.at(index);
    return {record: readSignRecord(view), view};
  }

  id(shard: number, record: SignRecord): string {
    return readBytes(this.spools[shard]!, record.spoolOffset, record.idBytes).toString('utf8');
  }

  text(shard: number, record: SignRecord): string {
    const at = record.spoolOffset + record.idBytes;
    return readBytes(this.spools[shard]!, at, record.textBytes).toString('utf8');
  }

  close(): void {
    for (const r of this.readers) r.close();
    for (const fd of this.spools) closeSync(fd);
  }
}
