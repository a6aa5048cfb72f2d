import {createRequire} from 'node:module';
import * as tf from '@tensorflow/tfjs';
import {BackendError} from '../errors.js';
import {BACKEND_CHOICES, type BackendChoice} from './choices.js';

const require = createRequire(import.meta.url);

export {BACKEND_CHOICES, type BackendChoice} from './choices.js';

/** The tfjs backend names these choices end up on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendAttempt {
  choice: Exclude<BackendChoice, 'auto'>;
  ok: boolean;
  /** Why it could not be used (module missing, addon failed to load, no GPU…). */
  reason?: string;
}

export interface BackendInfo {
  /** The tfjs backend in use. */
  name: BackendName;
  /** What was asked for. */
  requested: BackendChoice;
  /** The package that provides it. */
  package: string;
  /** Why this backend: one sentence for humans. */
  reason: string;
  /** Every backend tried, in order, with why the ones before failed. */
  attempts: BackendAttempt[];
}

export const NATIVE_HELP =
  'build it with `npm rebuild deepseek-kit` (offline: set DSK_LIBTENSORFLOW to a TensorFlow C library folder first)';

const INSTALL_HELP: Record<Exclude<BackendChoice, 'auto'>, string> = {
  'tensorflow-gpu': 'install @tensorflow/tfjs-node-gpu on a machine with CUDA and a GPU',
  tensorflow: NATIVE_HELP,
  wasm: 'run `npm install @tensorflow/tfjs-backend-wasm@4.22.0`',
  cpu: 'reinstall @tensorflow/tfjs',
};

const PACKAGES: Record<Exclude<BackendChoice, 'auto'>, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

let current: BackendInfo | undefined;
const chosenFor = new Map<BackendChoice, BackendInfo>();

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim();
}

function isResolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// TensorFlow's C library logs CPU-feature notices at load; they are noise on a CLI's stderr.
function quietNativeLogs(): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

async function tryNative(choice: 'tensorflow' | 'tensorflow-gpu'): Promise<string | undefined> {
  const pkg = PACKAGES[choice];
  if (!isResolvable(pkg)) return `${pkg} is not installed`;
  quietNativeLogs();
  try {
    require(pkg);
  } catch (err) {
    return `${pkg} failed to load: ${firstLine(err)}`;
  }
  if (!tf.findBackend('tensorflow')) return `${pkg} loaded but registered no 'tensorflow' backend`;
  // tfjs-node-gpu silently runs on the CPU when CUDA finds no device; say so rather than pretend.
  if (choice === 'tensorflow-gpu' && !(await hasGpuDevice())) return 'no usable GPU (CUDA found no device)';
  if (!(await tf.setBackend('tensorflow'))) return `${pkg}: tf.setBackend('tensorflow') failed`;
  return undefined;
}

async function hasGpuDevice(): Promise<boolean> {
  try {
    const {execFileSync} = await import('node:child_process');
    const out = execFileSync('nvidia-smi', ['-L'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
    return /GPU \d+/.test(out);
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<string | undefined> {
  if (!isResolvable(PACKAGES.wasm)) return `${PACKAGES.wasm} is not installed`;
  try {
    require(PACKAGES.wasm);
    if (!(await tf.setBackend('wasm'))) return "tf.setBackend('wasm') failed";
    return undefined;
  } catch (err) {
    return `wasm backend failed: ${firstLine(err)}`;
  }
}

async function tryCpu(): Promise<string | undefined> {
  if (!(await tf.setBackend('cpu'))) return "tf.setBackend('cpu') failed";
  // The cpu backend prints a multi-line "install tfjs-node" banner on first use; the kit
  // already printed its own one-line warning, so mark the banner as shown.
  (tf.backend() as unknown as {firstUse?: boolean}).firstUse = false;
  return undefined;
}

const TRY: Record<Exclude<BackendChoice, 'auto'>, () => Promise<string | undefined>> = {
  'tensorflow-gpu': () => tryNative('tensorflow-gpu'),
  tensorflow: () => tryNative('tensorflow'),
  wasm: tryWasm,
  cpu: tryCpu,
};

const BACKEND_OF: Record<Exclude<BackendChoice, 'auto'>, BackendName> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export function parseBackendChoice(value: string | undefined, source = '--backend'): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new BackendError(`${source}: unknown backend '${value}'`, `use one of ${BACKEND_CHOICES.join(', ')}`);
}

export interface InitBackendOptions {
  /** Backend to use; default: env DSK_BACKEND, else 'auto'. */
  backend?: BackendChoice | string;
  /** Receives the one-line warning printed when `auto` falls back from the native backend. */
  onWarning?: (message: string) => void;
  /** Fail instead of falling back from native (default: env DSK_REQUIRE_NATIVE=1). */
  requireNative?: boolean;
}

/**
 * Chooses and activates the tfjs backend. `auto` tries, in order, tfjs-node-gpu (only if installed
 * and a GPU is usable), tfjs-node, wasm, cpu; a fallback from native calls `onWarning` once with
 * why and how to get the native backend. An explicit choice that cannot load is a `BackendError`.
 * Calling it again with a choice made before switches back to that backend without new warnings.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const fromEnv = options.backend === undefined && process.env.DSK_BACKEND !== undefined;
  const requested = parseBackendChoice(
    options.backend ?? process.env.DSK_BACKEND,
    fromEnv ? 'DSK_BACKEND' : '--backend',
  );
  const known = chosenFor.get(requested);
  if (known) {
    if (tf.getBackend() !== known.name) await tf.setBackend(known.name);
    current = known;
    return known;
  }
  const requireNative = options.requireNative ?? process.env.DSK_REQUIRE_NATIVE === '1';
  const order: Exclude<BackendChoice, 'auto'>[] =
    requested === 'auto'
      ? [
          ...(isResolvable(PACKAGES['tensorflow-gpu']) ? (['tensorflow-gpu'] as const) : []),
          'tensorflow',
          'wasm',
          'cpu',
        ]
      : [requested];
  const attempts: BackendAttempt[] = [];
  for (const choice of order) {
    const failure = await TRY[choice]();
    attempts.push(failure ? {choice, ok: false, reason: failure} : {choice, ok: true});
    if (!failure) break;
    if (requested !== 'auto') {
      throw new BackendError(`backend '${choice}' cannot be used: ${failure}`, INSTALL_HELP[choice]);
    }
    if (choice === 'tensorflow' && requireNative) {
      throw new BackendError(`native backend required (DSK_REQUIRE_NATIVE=1) but ${failure}`, NATIVE_HELP);
    }
  }
  const chosen = attempts.at(-1)!;
  if (!chosen.ok) throw new BackendError('no tfjs backend could be loaded', INSTALL_HELP.cpu);
  const native = attempts.find((a) => a.choice === 'tensorflow');
  const reason =
    requested !== 'auto'
      ? `${chosen.choice} was requested`
      : chosen.choice === 'tensorflow-gpu' || chosen.choice === 'tensorflow'
        ? `auto: ${PACKAGES[chosen.choice]} loaded`
        : `auto: fell back to ${chosen.choice} because ${native?.reason ?? 'the native backend failed'}`;
  if (requested === 'auto' && BACKEND_OF[chosen.choice] !== 'tensorflow') {
    options.onWarning?.(
      `deepseek-kit: warning: using the slow ${chosen.choice} backend (${native?.reason}); ${NATIVE_HELP}`,
    );
  }
  current = {
    name: BACKEND_OF[chosen.choice],
    requested,
    package: PACKAGES[chosen.choice],
    reason,
    attempts,
  };
  chosenFor.set(requested, current);
  return current;
}

/** The backend chosen by the last `initBackend` call, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
