import {readFileSync} from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** CPU features that decide TensorFlow's kernel speed (oneDNN picks AVX2/AVX-512/AMX paths). */
const INTERESTING_FLAGS = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'avx512f',
  'avx512_bf16',
  'avx512_vnni',
  'amx_tile',
  'f16c',
];

export interface CpuInfo {
  model: string;
  cores: number;
  flags: string[];
}

export function cpuInfo(): CpuInfo {
  const cpus = os.cpus();
  let flags: string[] = [];
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('flags'));
    const all = new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
    flags = INTERESTING_FLAGS.filter((f) => all.has(f));
  } catch {
    // Not Linux: flags stay unknown rather than guessed.
  }
  return {model: cpus[0]?.model.trim() ?? 'unknown', cores: os.availableParallelism(), flags};
}

export interface NativeLibraryInfo {
  /** TensorFlow C library version, from the addon (TF_Version). */
  version?: string;
  /** The shared library actually mapped into this process. */
  path?: string;
}

/** Version and path of the TensorFlow C library behind the `tensorflow` backend, when it is active. */
export function nativeLibraryInfo(): NativeLibraryInfo {
  if (!tf.findBackend('tensorflow')) return {};
  const backend = tf.findBackend('tensorflow') as unknown as {binding?: {TF_Version?: string}};
  let path: string | undefined;
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    path = maps
      .split('\n')
      .map((l) => l.slice(l.indexOf('/')))
      .find((p) => /libtensorflow(_cc)?\.so/.test(p));
  } catch {
    // /proc is Linux-only.
  }
  return {version: backend.binding?.TF_Version, path};
}

export interface ThreadInfo {
  /** Cores Node reports as available. */
  available: number;
  /** TensorFlow's intra-op pool size when set by env, else TensorFlow picks one per core. */
  intraOp?: number;
  interOp?: number;
}

export function threadInfo(): ThreadInfo {
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  return {
    available: os.availableParallelism(),
    intraOp: num(process.env.TF_NUM_INTRAOP_THREADS),
    interOp: num(process.env.TF_NUM_INTEROP_THREADS),
  };
}
