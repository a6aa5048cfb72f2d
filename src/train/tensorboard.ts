import {closeSync, fsyncSync, mkdirSync, openSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {join} from 'node:path';

/**
 * TensorBoard event files written directly, so they work on every backend (tfjs-node's
 * `tf.node.summaryFileWriter` exists only with the native one). The format: TFRecord framing
 * (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) around
 * `tensorflow.Event` protocol buffers; scalars use `Summary.Value.simple_value`.
 */

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15, add a constant. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** A length-delimited protobuf field. */
function lengthDelimited(field: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(payload.length)]), payload]);
}

function eventProto(wallTime: number, step: number, body: Buffer): Buffer {
  const time = Buffer.alloc(9);
  time[0] = (1 << 3) | 1; // wall_time: double
  time.writeDoubleLE(wallTime, 1);
  return Buffer.concat([time, Buffer.from([2 << 3, ...varint(step)]), body]);
}

function scalarSummary(tag: string, value: number): Buffer {
  const simple = Buffer.alloc(5);
  simple[0] = (2 << 3) | 5; // simple_value: float
  simple.writeFloatLE(value, 1);
  const summaryValue = Buffer.concat([lengthDelimited(1, Buffer.from(tag, 'utf8')), simple]);
  return lengthDelimited(5, lengthDelimited(1, summaryValue)); // Event.summary { value { … } }
}

function tfRecord(payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(payload.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(payload), 0);
  return Buffer.concat([header, payload, footer]);
}

/** Appends scalar summaries to one `events.out.tfevents.*` file that TensorBoard reads. */
export class EventFileWriter {
  readonly path: string;
  private fd: number | undefined;

  constructor(dir: string) {
    mkdirSync(dir, {recursive: true});
    const now = Date.now() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}`);
    this.fd = openSync(this.path, 'a');
    this.write(eventProto(now, 0, lengthDelimited(3, Buffer.from('brain.Event:2'))));
  }

  scalar(tag: string, value: number, step: number): void {
    this.write(eventProto(Date.now() / 1000, step, scalarSummary(tag, value)));
  }

  flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(event: Buffer): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    writeSync(this.fd, tfRecord(event));
  }
}
