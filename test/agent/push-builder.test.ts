import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PushBuilder } from '../../src/agent/push-builder.js';
import { labelSetText } from '../../src/formats/loki-push/labels.js';
import {
  decodePushRequest,
  type EncodableStream,
  encodeWithProtobufjs,
} from '../../src/formats/loki-push/proto.js';
import type { PushEntry } from '../../src/formats/loki-push/types.js';
import type { LogRecord } from '../../src/model/record.js';

const web = { namespace: 'shop', pod: 'web-1', container: 'app', stream: 'stdout' };
const webErr = { ...web, stream: 'stderr' };
const other = { namespace: 'kube-system', pod: 'dns-ü', container: 'dns', stream: 'stdout' };
const meta = { pod_uid: 'a1b2', restart: '0', note: 'ünïcode ✓', empty: '' };

const rec = (
  labels: Record<string, string>,
  timestamp: bigint,
  body: string,
  attributes = {},
): LogRecord => ({
  timestamp,
  observedTimestamp: 1n,
  labels,
  attributes,
  body,
});

/** What the builder must write: streams in order of first appearance, each with its entries in order. */
function expected(records: readonly LogRecord[]): Buffer {
  const streams = new Map<string, PushEntry[]>();
  for (const r of records) {
    const key = labelSetText(r.labels);
    const entries = streams.get(key) ?? [];
    streams.set(key, entries);
    const e: PushEntry = { timestamp: r.timestamp, line: r.body };
    if (Object.keys(r.attributes).length > 0) e.metadata = r.attributes;
    entries.push(e);
  }
  const list: EncodableStream[] = [...streams].map(([labels, entries]) => ({ labels, entries }));
  return Buffer.from(encodeWithProtobufjs(list));
}

const records: LogRecord[] = [
  rec(web, 1_700_000_000_123_456_789n, 'plain line', meta),
  rec(web, 1_700_000_000_123_456_790n, 'same second, same metadata object', meta),
  rec(webErr, 1_700_000_001_000_000_000n, 'stderr: a run of another stream'),
  rec(web, 1_700_000_002_000_000_001n, '', {}),
  rec(other, 0n, 'the epoch: seconds and nanos zero'),
  rec({ ...web }, 1_700_000_003_000_000_000n, 'equal labels in another object: the same stream'),
  rec(web, 9_999_999_999_999_999_999n, 'far future: seconds beyond 2^32'),
  rec(other, -1_500_000_000n, 'before 1970: negative seconds, positive nanos'),
  rec(other, -3_000_000_000n, 'before 1970 on a whole second'),
  rec(webErr, 5n, `${'x'.repeat(200)}\t"quoted"\n😀`),
  rec(web, 1n, 'y'.repeat(70_000)),
];

test('the builder writes exactly the bytes protobufjs writes for the same streams', () => {
  const b = new PushBuilder(16);
  b.add(records.slice(0, 4));
  b.add(records.slice(4));
  assert.equal(b.count, records.length);
  assert.equal(
    b.lineBytes,
    records.reduce((n, r) => n + Buffer.byteLength(r.body), 0),
  );
  assert.deepEqual(b.finish(), expected(records));
});

test('finish starts afresh, and a scratch buffer is reused', () => {
  const b = new PushBuilder();
  const scratch = {};
  b.add(records);
  const first = Buffer.from(b.finish(scratch));
  assert.equal(b.count, 0);
  assert.equal(b.lineBytes, 0);
  b.add([records[2]!]);
  const second = b.finish(scratch);
  assert.deepEqual(second, expected([records[2]!]));
  assert.deepEqual(first, expected(records));
  assert.equal(b.finish().length, 0);
});

test('it decodes back to the records', () => {
  const b = new PushBuilder();
  b.add(records);
  const streams = decodePushRequest(b.finish());
  const back = streams.flatMap((s) => s.entries.map((e) => ({ ts: e.timestamp, line: e.line })));
  assert.equal(back.length, records.length);
  const first = back.find((e) => e.line === 'plain line');
  assert.equal(first?.ts, 1_700_000_000_123_456_789n);
  const old = back.find((e) => e.line.startsWith('before 1970: negative'));
  assert.equal(old?.ts, -1_500_000_000n);
  assert.deepEqual(
    streams.map((s) => s.entries.length),
    [6, 2, 3],
  );
});

test('reset drops what was added', () => {
  const b = new PushBuilder();
  b.add(records);
  b.reset();
  b.add([records[0]!]);
  assert.deepEqual(b.finish(), expected([records[0]!]));
});

test('an entry added as bytes encodes as the same entry added as a record', () => {
  const a = new PushBuilder();
  const b = new PushBuilder();
  a.add(records);
  const text = Buffer.from(`prefix|${records.map((r) => r.body).join('|')}`);
  let at = 'prefix|'.length;
  for (const r of records) {
    const len = Buffer.byteLength(r.body);
    b.addBytes(r.labels, r.attributes, r.timestamp, text, at, at + len);
    at += len + 1;
  }
  assert.equal(b.count, a.count);
  assert.equal(b.lineBytes, a.lineBytes);
  assert.deepEqual(b.finish(), a.finish());
});
