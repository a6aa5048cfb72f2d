import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {crc32c, EventFileWriter, maskedCrc32c} from '../../src/train/tensorboard.js';

/** Reads TFRecords back, checking both CRCs, as TensorBoard's reader does. */
function readRecords(bytes: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = Number(bytes.readBigUInt64LE(at));
    expect(bytes.readUInt32LE(at + 8)).toBe(maskedCrc32c(bytes.subarray(at, at + 8)));
    const data = bytes.subarray(at + 12, at + 12 + length);
    expect(bytes.readUInt32LE(at + 12 + length)).toBe(maskedCrc32c(data));
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

/** The (tag, simple_value, step) of a scalar Event, decoded field by field. */
function decodeScalar(event: Buffer): {tag: string; value: number; step: number} {
  expect(event[0]).toBe(0x09); // wall_time, double
  expect(event[9]).toBe(0x10); // step, varint
  let at = 10;
  let step = 0;
  for (let shift = 0; ; shift += 7) {
    const b = event[at++]!;
    step += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
  }
  expect(event[at]).toBe(0x2a); // summary
  const tagStart = event.indexOf(0x0a, at + 4) + 2; // value { tag: … }
  const tagLength = event[tagStart - 1]!;
  const tag = event.subarray(tagStart, tagStart + tagLength).toString('utf8');
  expect(event[tagStart + tagLength]).toBe(0x15); // simple_value, float
  return {tag, value: event.readFloatLE(tagStart + tagLength + 1), step};
}

describe('TensorBoard event files', () => {
  it('CRC-32C matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('writes a version event, then scalar events TensorBoard can read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dsk-tb-'));
    const writer = new EventFileWriter(dir);
    writer.scalar('train/loss', 1.25, 1);
    writer.scalar('val/acc', 0.875, 300);
    writer.flush();
    writer.close();
    const records = readRecords(await readFile(writer.path));
    expect(records).toHaveLength(3);
    expect(records[0]!.includes(Buffer.from('brain.Event:2'))).toBe(true);
    expect(decodeScalar(records[1]!)).toEqual({tag: 'train/loss', value: 1.25, step: 1});
    expect(decodeScalar(records[2]!)).toEqual({tag: 'val/acc', value: 0.875, step: 300});
    await rm(dir, {recursive: true, force: true});
  });
});
