/**
 * RowBinary's UInt64 (store/clickhouse/rowbinary.ts): written through a typed array for speed, it
 * must be the same 8 little-endian bytes Buffer's writeBigUInt64LE writes, and refuse what
 * UInt64 cannot hold rather than wrap it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowBinaryReader, RowBinaryWriter } from '../../../src/store/clickhouse/rowbinary.js';

test('uint64 writes the little-endian bytes of every value and reads them back', () => {
  const values = [0n, 1n, 255n, 256n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
  for (let i = 0n; i < 200n; i++) values.push((i * 0x9e3779b97f4a7c15n) % 2n ** 64n);
  values.push(1_765_000_000_123_456_789n);
  const w = new RowBinaryWriter(16); // grows on the way
  for (const v of values) w.uint64(v);
  const bytes = w.bytes();
  assert.equal(bytes.length, values.length * 8);
  values.forEach((v, i) => {
    const expected = Buffer.alloc(8);
    expected.writeBigUInt64LE(v);
    assert.deepEqual(bytes.subarray(i * 8, i * 8 + 8), expected, `value ${v}`);
  });
  const r = new RowBinaryReader(bytes);
  for (const v of values) assert.equal(r.uint64(), v);
});

test('uint64 refuses a value UInt64 cannot hold', () => {
  const w = new RowBinaryWriter();
  assert.throws(() => w.uint64(-1n), RangeError);
  assert.throws(() => w.uint64(2n ** 64n), RangeError);
});
