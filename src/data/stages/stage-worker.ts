// The process `clean --workers` starts for one stage of one shard: `node stage-worker.js NAME WORK
// PART` runs the stage and prints its result as one JSON line (with the process's peak RSS). It is
// what `clean stage NAME --work WORK --shard PART/N --json` does, without loading the command
// framework: a clean runs six stages per shard, and the CLI's start-up was most of a small stage.
import {UserError} from '../../errors.js';
import {runStage, STAGES, type StageName} from './stages.js';

const [name, work, part] = process.argv.slice(2);
try {
  if (!(STAGES as readonly string[]).includes(name ?? '') || !work || !/^\d+$/.test(part ?? '')) {
    throw new UserError(`usage: stage-worker NAME WORK PART (NAME one of ${STAGES.join(', ')})`);
  }
  const result = await runStage(name as StageName, work, Number(part));
  process.stdout.write(
    `${JSON.stringify({...result, peakRssBytes: process.resourceUsage().maxRSS * 1024})}\n`,
  );
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UserError ? 1 : 2;
}
