import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

// CLI tests run bin/run.js, which runs dist/: build it from the current sources first, as
// `npm run build` does (tsc, then the command manifest).
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['scripts/write-manifest.mjs'], {cwd: root, stdio: 'inherit'});
}
