import cliProgress from 'cli-progress';
import type {DataProgress} from '../data/run-data-step.js';

/**
 * A progress bar on stderr for a data step, shown only when stderr is a terminal (never in pipes,
 * logs or CI). Returns the callback to pass as `onProgress` and a `stop` to call at the end.
 */
export function dataProgressBar(label: string): {onProgress?: (p: DataProgress) => void; stop: () => void} {
  if (!process.stderr.isTTY) return {stop: () => undefined};
  let bar: cliProgress.SingleBar | undefined;
  const onProgress = (p: DataProgress) => {
    const total = p.totalBytes ?? 0;
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: total
            ? `${label} [{bar}] {percentage}% | {read} rows | {mb} MB | eta {eta_formatted}`
            : `${label} {read} rows | {mb} MB`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total || 1, 0, {read: 0, mb: '0'});
    }
    bar.update(total ? Math.min(p.bytes, total) : 0, {read: p.read, mb: (p.bytes / 1e6).toFixed(1)});
  };
  return {onProgress, stop: () => bar?.stop()};
}
