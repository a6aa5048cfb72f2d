import * as tf from '@tensorflow/tfjs';

/**
 * A tensor computed from some weights (say the q, k and v kernels side by side) and kept between
 * calls, so a decoding step pays one product instead of three. It is rebuilt whenever a source
 * changed: writing a variable (an optimizer step, `setWeights`, `loadWeights`, QAT) gives it new
 * data, so the sources' data ids are its version. The owner disposes it with its layer.
 */
export class DerivedWeights<T extends tf.Tensor> {
  private value?: T;
  private versions: object[] = [];

  constructor(private readonly derive: (sources: tf.Tensor[]) => T) {}

  /** The derived tensor for the current values of `sources` (same order every call). */
  get(sources: tf.Tensor[]): T {
    const fresh =
      this.value !== undefined &&
      !this.value.isDisposed &&
      sources.length === this.versions.length &&
      sources.every((s, i) => s.dataId === this.versions[i]);
    if (!fresh) {
      this.dispose();
      // Kept: a caller's tidy must not dispose what later calls reuse.
      this.value = tf.keep(tf.tidy(() => this.derive(sources)));
      this.versions = sources.map((s) => s.dataId);
    }
    return this.value!;
  }

  dispose(): void {
    this.value?.dispose();
    this.value = undefined;
    this.versions = [];
  }
}
