// Every TensorFlow op tfjs-node executes — tfjs's kernels and the kit's native ops (src/backend/
// native-ops.ts) alike — counted and timed by name, by wrapping the binding's executeOp. tf.profile
// sees only kernels that go through tfjs's engine, so it would miss the native ops; and since
// tfjs-node runs ops synchronously, the time around executeOp is the op's own (dispatch included).
import * as tf from '@tensorflow/tfjs';

export interface OpTotals {
  count: number;
  ms: number;
}

interface Binding {
  executeOp(name: string, ...rest: unknown[]): unknown;
}

export class NativeOpLog {
  private totals = new Map<string, OpTotals>();
  private on = false;

  private constructor(backend: {binding: Binding}) {
    const binding = backend.binding;
    const executeOp = binding.executeOp.bind(binding);
    // The addon's properties are read-only: the backend gets a wrapper that inherits the rest.
    backend.binding = Object.create(binding, {
      executeOp: {
        value: (name: string, ...rest: unknown[]) => {
          if (!this.on) return executeOp(name, ...rest);
          const t0 = performance.now();
          const out = executeOp(name, ...rest);
          const entry = this.totals.get(name) ?? {count: 0, ms: 0};
          entry.count += 1;
          entry.ms += performance.now() - t0;
          this.totals.set(name, entry);
          return out;
        },
      },
    });
  }

  /** A log on the active backend, or undefined when it is not tfjs-node's. */
  static attach(): NativeOpLog | undefined {
    if (tf.getBackend() !== 'tensorflow') return undefined;
    return new NativeOpLog(tf.backend() as unknown as {binding: Binding});
  }

  /** Runs `fn` and returns the ops it executed, by name. */
  record(fn: () => void): Map<string, OpTotals> {
    this.totals = new Map();
    this.on = true;
    try {
      fn();
    } finally {
      this.on = false;
    }
    return this.totals;
  }
}

/** Ops in a recorded map, all names together. */
export const opCount = (ops: Map<string, OpTotals>) => [...ops.values()].reduce((n, e) => n + e.count, 0);
