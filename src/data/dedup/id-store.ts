/**
 * The ids of kept documents, packed as UTF-8 in one growing buffer with an offset per document:
 * about (id length + 4) bytes each, so a removed duplicate can name the document it repeats.
 */
export class IdStore {
  private bytes = Buffer.alloc(1 << 16);
  private offsets = new Uint32Array(1024);
  private used = 0;
  size = 0;

  /** Stores `id`; returns its ordinal. */
  add(id: string): number {
    const need = Buffer.byteLength(id);
    if (this.used + need > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (this.used + need > size) size *= 2;
      const bigger = Buffer.alloc(size);
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    if (this.size + 1 >= this.offsets.length) {
      const bigger = new Uint32Array(this.offsets.length * 2);
      bigger.set(this.offsets);
      this.offsets = bigger;
    }
    this.used += this.bytes.write(id, this.used);
    this.offsets[++this.size] = this.used;
    return this.size - 1;
  }

  get(ordinal: number): string {
    return this.bytes.toString('utf8', this.offsets[ordinal], this.offsets[ordinal + 1]);
  }

  get byteSize(): number {
    return this.bytes.length + this.offsets.byteLength;
  }
}
