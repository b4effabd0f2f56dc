/**
 * `POST /upload` reads and parses the next batch while one is being written
 * (src/api/journal-upload/upload.ts): one write in flight, one batch held, writes in order; a write
 * that fails ends the request with that failure and no later write starts. Against an intake whose
 * writes are held until released, fed an upload in chunks.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { RequestContext } from '../../../src/api/http/router.js';
import { journalUploadHandler } from '../../../src/api/journal-upload/upload.js';
import type { Intake, WriteRequest } from '../../../src/api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../../../src/api/receivers/metrics.js';
import type { RawRecord } from '../../../src/model/normalize.js';

let pulled = 0;
let openGate: () => void = () => {};

/**
 * An upload of `n` entries, one message each, in chunks of 64 KiB: the first three at once, the
 * rest once `openGate()` is called; `pulled` counts the chunks read.
 */
function upload(n: number): IncomingMessage {
  const entries: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    entries.push(
      Buffer.from(`__REALTIME_TIMESTAMP=${1_700_000_000_000_000 + i}\n_HOSTNAME=h\nMESSAGE=line ${i}\n\n`),
    );
  }
  const all = Buffer.concat(entries);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; off += 64 * 1024) chunks.push(all.subarray(off, off + 64 * 1024));
  pulled = 0;
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  const counted = (async function* () {
    for (const [i, c] of chunks.entries()) {
      if (i === 3) await gate;
      pulled++;
      yield c;
    }
  })();
  const req = Readable.from(counted, { highWaterMark: 1 }) as unknown as IncomingMessage;
  Object.assign(req, { headers: { 'content-type': 'application/vnd.fdo.journal' } });
  return req;
}

/** An intake whose writes wait for `release`; records what it was given and how many ran at once. */
class HeldIntake {
  readonly batches: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  private waiting: (() => void)[] = [];
  failAt = -1;

  async write(r: WriteRequest) {
    const n = this.batches.length;
    this.batches.push(r.records.map((x) => (x as RawRecord).body));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (n === this.failAt) throw new Error('the store failed');
      return {
        stored: r.records.length,
        duplicates: 0,
        refusals: [],
        accepted: r.records.length,
        refused: 0,
        refusedByReason: {},
      };
    } finally {
      this.inFlight--;
    }
  }

  release(): void {
    for (const w of this.waiting.splice(0)) w();
  }
}

const until = async (what: string, ok: () => boolean): Promise<void> => {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function handlerFor(intake: HeldIntake) {
  return journalUploadHandler({
    intake: intake as unknown as Intake,
    counter: new ProtocolCounter(receiverCounters(new Registry()), 'journal-upload'),
    maxBodyBytes: 1 << 20,
  });
}

test('the next batch is parsed while one is written; one write at a time, in order, every line once', async () => {
  const intake = new HeldIntake();
  const answer = handlerFor(intake)({ req: upload(30_000), access: {} } as unknown as RequestContext);
  await until('the first write', () => intake.batches.length === 1);
  // The first write is held; more of the body arrives. The handler reads on into the next batch
  // (at least two more chunks of ~930 entries: the stream's own read-ahead is one).
  const atFirstWrite = pulled;
  openGate();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(intake.batches.length, 1, 'no second write while the first is held');
  assert.ok(pulled >= atFirstWrite + 2, `read ${pulled} chunks, ${atFirstWrite} at the first write`);
  while (true) {
    const before = intake.batches.length;
    intake.release();
    const done = await Promise.race([answer.then(() => true), new Promise((r) => setTimeout(r, 30, false))]);
    if (done) break;
    assert.ok(intake.batches.length >= before, 'writes only grow');
  }
  const r = (await answer) as { status: number };
  assert.equal(r.status, 200);
  assert.equal(intake.maxInFlight, 1);
  const lines = intake.batches.flat();
  assert.deepEqual(
    lines,
    Array.from({ length: 30_000 }, (_, i) => `line ${i}`),
  );
  // Each write takes what was parsed by then: 2,000 or more but the last (a chunk holds ~1,400).
  const sizes = intake.batches.map((b) => b.length);
  assert.ok(
    sizes.slice(0, -1).every((n) => n >= 2000),
    String(sizes),
  );
});

test('a write that fails ends the upload with its error, and no later write starts', async () => {
  const intake = new HeldIntake();
  intake.failAt = 1;
  const answer = handlerFor(intake)({ req: upload(9000), access: {} } as unknown as RequestContext);
  openGate();
  const settled = answer.then(
    () => 'resolved',
    (err: Error) => err.message,
  );
  let over = false;
  void settled.then(() => {
    over = true;
  });
  while (!over) {
    intake.release();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await settled, 'the store failed');
  assert.equal(intake.batches.length, 2, 'the write after the failed one never started');
});
