/**
 * The receivers' one intake (api/receivers/intake.ts): per-item refusals in Loki's words, and
 * what it learns of a stream's labels object kept across requests (normalised once, not once per
 * request), so that a receiver that keeps one labels object per stream pays for it once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { Intake } from '../../../src/api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../../../src/api/receivers/metrics.js';
import { RequestAccess } from '../../../src/auth/access.js';
import { ANONYMOUS_USER } from '../../../src/auth/types.js';
import { DEFAULT_PUSH_LIMITS } from '../../../src/formats/loki-push/index.js';
import type { LogRecord } from '../../../src/model/record.js';

class KeptJournal {
  readonly writes: LogRecord[][] = [];
  admitWrite(): void {}
  async write(_tenant: string, records: LogRecord[]) {
    this.writes.push(records);
    return { stored: records.length, duplicates: 0 };
  }
}

const access = new RequestAccess(ANONYMOUS_USER, 'default', '/x', async () => 'allow');

/** An intake whose lines may be 10 bytes at most, its journal and its counters. */
function withLineLimit10() {
  const journal = new KeptJournal();
  const registry = new Registry();
  const intake = new Intake({
    journal: journal as never,
    limits: { ...DEFAULT_PUSH_LIMITS, maxLineSize: 10 },
  });
  const counter = new ProtocolCounter(receiverCounters(registry), 'test');
  return { journal, registry, intake, counter };
}

test('intake: one labels object per stream stays one stored labels object across requests', async () => {
  const journal = new KeptJournal();
  const intake = new Intake({ journal: journal as never, limits: DEFAULT_PUSH_LIMITS });
  const counter = new ProtocolCounter(receiverCounters(new Registry()), 'test');
  const labels = { namespace: 'shop', pod: 'web-1' };
  const now = BigInt(Date.now()) * 1_000_000n;
  const rec = (body: string) => ({ timestamp: now, observedTimestamp: now, labels, body });
  await intake.write({ access, records: [rec('a'), rec('b')], counter });
  await intake.write({ access, records: [rec('c')], counter });
  const [first, second] = journal.writes;
  assert.equal(first![0]!.labels, first![1]!.labels);
  assert.equal(second![0]!.labels, first![0]!.labels, 'normalised once for both requests');
  assert.equal(first![0]!.labels.kind, 'containerlog', 'normalised (kind from the pod labels)');
});

test('intake: refusals per item in Loki words; the rest stored; counted', async () => {
  const { journal, registry, intake, counter } = withLineLimit10();
  const labels = { app: 'a' };
  const now = BigInt(Date.now()) * 1_000_000n;
  const r = await intake.write({
    access,
    records: [
      { timestamp: now, observedTimestamp: now, labels, body: 'short' },
      { timestamp: now, observedTimestamp: now, labels, body: 'far too long a line' },
      { timestamp: 1n, observedTimestamp: now, labels, body: 'old' },
    ],
    counter,
  });
  assert.equal(r.accepted, 1);
  assert.equal(r.refused, 2);
  assert.deepEqual(r.refusedByReason, { line_too_long: 1, too_old: 1 });
  assert.equal(r.refusals[0], undefined);
  assert.match(r.refusals[1]!.message, /Max entry size '10' bytes exceeded/);
  assert.match(r.firstRefusal!, /Max entry size/);
  assert.equal(journal.writes[0]!.length, 1);
  const text = await registry.metrics();
  assert.match(text, /kjournal_receiver_records_total\{protocol="test",result="refused"\} 2/);
  assert.match(text, /kjournal_receiver_bytes_total\{protocol="test",result="accepted"\} 5/);
});

test('intake: line lengths measured by the decoder are the ones checked and counted; lengths for other items are not', async () => {
  const { registry, intake, counter } = withLineLimit10();
  const labels = { app: 'a' };
  const now = BigInt(Date.now()) * 1_000_000n;
  const records = [
    { timestamp: now, observedTimestamp: now, labels, body: 'été' },
    { timestamp: now, observedTimestamp: now, labels, body: 'ok' },
  ];
  // 'été' is 5 bytes; the decoder's word is taken (11: past the limit).
  const r = await intake.write({ access, records, counter, lineBytes: Uint32Array.from([11, 2]) });
  assert.deepEqual(r.refusedByReason, { line_too_long: 1 });
  assert.match(r.refusals[0]!.message, /with length '11' bytes/);
  // Lengths that do not match the items (another request's) are ignored: measured here.
  const again = await intake.write({
    access,
    records: records.slice(0, 1),
    counter,
    lineBytes: Uint32Array.from([11, 2]),
  });
  assert.equal(again.accepted, 1);
  assert.match(
    await registry.metrics(),
    /kjournal_receiver_bytes_total\{protocol="test",result="accepted"\} 7/,
  );
});
