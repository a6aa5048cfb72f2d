import {describe, expect, it} from 'vitest';
import {runTraining} from '../../src/cli/run-training.js';
import {TrainProgress} from '../../src/cli/train-progress.js';

/** A stand-in for an oclif command: what runTraining asks of one. */
function fakeCommand(json: boolean) {
  const logged: string[] = [];
  return {logged, jsonEnabled: () => json, log: (message?: string) => void logged.push(message ?? '')};
}

const quiet = () => new TrainProgress({stream: {write: () => true, isTTY: false} as never, bar: false});

describe('runTraining, the one way long model commands run', () => {
  it('hands the job a stop signal that Ctrl-C aborts, and removes its handler afterwards', async () => {
    const command = fakeCommand(false);
    const before = process.listenerCount('SIGINT');
    let aborted = false;
    const report = await runTraining(
      command,
      async ({signal}) => {
        expect(process.listenerCount('SIGINT')).toBe(before + 1);
        const handler = process.listeners('SIGINT').at(-1) as () => void;
        handler();
        aborted = signal.aborted;
        return {steps: 3};
      },
      (r) => `trained ${r.steps} steps`,
      quiet(),
    );
    expect(aborted).toBe(true);
    expect(report).toEqual({steps: 3});
    expect(command.logged).toEqual(['trained 3 steps']);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('prints no summary under --json (oclif prints the report) and cleans up when the job fails', async () => {
    const json = fakeCommand(true);
    await runTraining(
      json,
      async () => ({steps: 1}),
      () => 'summary',
      quiet(),
    );
    expect(json.logged).toEqual([]);
    const before = process.listenerCount('SIGINT');
    await expect(
      runTraining(
        fakeCommand(false),
        async () => {
          throw new Error('bad data');
        },
        () => '',
        quiet(),
      ),
    ).rejects.toThrow('bad data');
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
