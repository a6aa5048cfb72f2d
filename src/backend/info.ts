import {readFileSync} from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import {type BackendChoice, type BackendInfo, initBackend} from './backend.js';
import {probeMatmul} from './probe.js';
import {
  type CpuInfo,
  cpuInfo,
  type NativeLibraryInfo,
  nativeLibraryInfo,
  type ThreadInfo,
  threadInfo,
} from './system.js';

export interface KitInfo {
  package: {name: string; version: string};
  node: string;
  tfjs: string;
  backend: BackendInfo;
  tensorflow: NativeLibraryInfo;
  threads: ThreadInfo;
  cpu: CpuInfo;
  /** With `probe`: matmul GFLOPS of each backend that loads. */
  probe?: {backend: string; size: number; gflops: number}[];
}

export interface InfoOptions {
  backend?: BackendChoice | string;
  /** Time a 1024² matmul (~2 s in all) on each backend that loads. */
  probe?: boolean;
  onWarning?: (message: string) => void;
}

export function packageInfo(): {name: string; version: string} {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as {name: string; version: string};
  return {name: pkg.name, version: pkg.version};
}

/** Everything `deepseek-kit info` reports: versions, the backend in use and why, the machine. */
export async function getInfo(options: InfoOptions = {}): Promise<KitInfo> {
  const backend = await initBackend({backend: options.backend, onWarning: options.onWarning});
  const info: KitInfo = {
    package: packageInfo(),
    node: process.version,
    tfjs: tf.version.tfjs,
    backend,
    tensorflow: nativeLibraryInfo(),
    threads: threadInfo(),
    cpu: cpuInfo(),
  };
  if (options.probe) {
    info.probe = [];
    for (const choice of ['tensorflow', 'wasm', 'cpu'] as const) {
      try {
        await initBackend({backend: choice});
      } catch {
        continue; // Only backends that load are probed.
      }
      // The pure-JS backend needs ~1.5 s for one 1024² product: probe it at 512.
      const size = choice === 'cpu' ? 512 : 1024;
      const r = await probeMatmul(size, 0.5);
      info.probe.push({backend: choice, size, gflops: Number(r.gflops.toFixed(1))});
    }
    await initBackend({backend: backend.requested});
  }
  return info;
}

export function formatInfo(info: KitInfo): string {
  const lines = [
    `${info.package.name} ${info.package.version} (node ${info.node}, tfjs ${info.tfjs})`,
    `backend     ${info.backend.name} — ${info.backend.reason}`,
  ];
  for (const a of info.backend.attempts.filter((x) => !x.ok))
    lines.push(`  not used  ${a.choice}: ${a.reason}`);
  if (info.tensorflow.version)
    lines.push(`tensorflow  ${info.tensorflow.version} at ${info.tensorflow.path ?? '?'}`);
  const t = info.threads;
  lines.push(`threads     ${t.available} cores${t.intraOp ? `, intra-op ${t.intraOp}` : ''}`);
  lines.push(`cpu         ${info.cpu.model} [${info.cpu.flags.join(' ')}]`);
  for (const p of info.probe ?? [])
    lines.push(`probe       ${p.backend.padEnd(10)} ${p.gflops} GFLOPS (${p.size}² matmul)`);
  return lines.join('\n');
}
