import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import snappy from 'snappy';
import { BufferClosedError, DiskBuffer } from '../../src/disk/buffer.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});
const fresh = async () => {
  dir = await mkdtemp(join(tmpdir(), 'kj-buffer-'));
  return dir;
};
const body = (s: string) => Buffer.from(s);

test('appends survive a reopen; acknowledged batches are skipped; bodies read back', async () => {
  const d = await fresh();
  const b = new DiskBuffer({ dir: d, maxBytes: 1 << 20 });
  await b.open(0);
  for (let i = 0; i < 5; i++) await b.append('s', { n: i }, 1, body(`body ${i}`));
  assert.deepEqual(
    b.pending.map((e) => e.id),
    [1, 2, 3, 4, 5],
  );
  await b.close();
  const c = new DiskBuffer({ dir: d, maxBytes: 1 << 20 });
  await c.open(2);
  assert.deepEqual(
    c.pending.map((e) => e.id),
    [3, 4, 5],
  );
  assert.deepEqual(c.pending[0]!.positions, { n: 2 });
  assert.equal((await c.body(c.pending[2]!)).toString(), 'body 4');
  // Ids go on after the highest one on disk.
  const e = await c.append('s', {}, 1, body('next'));
  assert.equal(e.id, 6);
  await c.close();
});

test('a torn frame at the end is cut off; released segments are deleted', async () => {
  const d = await fresh();
  const b = new DiskBuffer({ dir: d, maxBytes: 1 << 20, segmentBytes: 64 });
  await b.open(0);
  for (let i = 0; i < 6; i++) await b.append('s', { n: i }, 1, body(`payload number ${i}`));
  const segs = (await readdir(d)).sort();
  assert.ok(segs.length >= 3, `several segments: ${segs}`);
  await b.release(4);
  assert.deepEqual(
    b.pending.map((e) => e.id),
    [5, 6],
  );
  const left = (await readdir(d)).sort();
  assert.ok(left.length < segs.length, 'fully acknowledged segments were deleted');
  await b.close();
  const last = join(d, left.at(-1)!);
  const size = (await stat(last)).size;
  await appendFile(last, Buffer.from([0x4b, 0x4a, 0x42, 0x31, 0, 0, 0, 9]));
  const c = new DiskBuffer({ dir: d, maxBytes: 1 << 20, segmentBytes: 64 });
  await c.open(4);
  assert.deepEqual(
    c.pending.map((e) => e.id),
    [5, 6],
  );
  assert.equal((await stat(last)).size, size);
  await c.close();
});

test('append waits while full, resumes on release, and rejects when closed', async () => {
  const d = await fresh();
  const fulls: boolean[] = [];
  const b = new DiskBuffer({ dir: d, maxBytes: 300 });
  b.onFullChange = (f) => fulls.push(f);
  await b.open(0);
  // One oversized batch is still taken into an empty buffer.
  await b.append('s', {}, 1, Buffer.alloc(500));
  assert.equal(b.full, true);
  let second = false;
  const p = b.append('s', {}, 1, Buffer.alloc(100)).then(() => {
    second = true;
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(second, false, 'append waits while the buffer is full');
  await b.release(1);
  await p;
  assert.equal(second, true);
  assert.deepEqual(fulls, [true, false]);
  const third = b.append('s', {}, 1, Buffer.alloc(250));
  await new Promise((r) => setTimeout(r, 50));
  await b.close();
  await assert.rejects(third, BufferClosedError);
});

test('snappy bodies: pushed as stored, read back uncompressed, also after a reopen', async () => {
  const d = await fresh();
  const raw = Buffer.from('a protobuf body '.repeat(200));
  const packed = snappy.compressSync(raw);
  const b = new DiskBuffer({ dir: d, maxBytes: 1 << 20, memoryBytes: 0 });
  await b.open(0);
  const e = await b.append('s', { n: 1 }, 3, packed, 'snappy');
  assert.equal(e.snappy, true);
  assert.equal(e.bodyBytes, packed.length);
  assert.deepEqual(await b.compressedBody(e), packed);
  assert.deepEqual(await b.body(e), raw);
  // An uncompressed frame is compressed when it is pushed.
  const plain = await b.append('s', { n: 2 }, 1, raw);
  assert.deepEqual(snappy.uncompressSync(await b.compressedBody(plain)), raw);
  await b.close();
  const c = new DiskBuffer({ dir: d, maxBytes: 1 << 20 });
  await c.open(0);
  assert.deepEqual(
    c.pending.map((p) => [p.id, p.snappy, p.records]),
    [
      [1, true, 3],
      [2, false, 1],
    ],
  );
  assert.deepEqual(await c.body(c.pending[0]!), raw);
  await c.close();
});
