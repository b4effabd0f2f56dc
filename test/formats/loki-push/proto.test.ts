import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import snappy from 'snappy';
import { FormatError } from '../../../src/formats/errors.js';
import {
  decodePushBody,
  decodePushRequest,
  encodePushRequest,
  GO_ZERO_TIME_NS,
  type PushEntry,
  PushRequestType,
} from '../../../src/formats/loki-push/index.js';

const push = (bytes: Uint8Array, contentEncoding?: string) =>
  decodePushBody(snappy.compressSync(Buffer.from(bytes)), 'application/x-protobuf', contentEncoding);

function rejects(bytes: Uint8Array, message: string | RegExp): void {
  assert.throws(
    () => decodePushRequest(bytes),
    (err: unknown) => {
      assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
      assert.equal(err.code, 'malformed');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

/** Raw wire bytes for malformed cases: a PushRequest holding one stream made by `stream`. */
function request(stream: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  stream(w);
  w.ldelim();
  return w.finish();
}

/** A stream with labels {a="b"} and one entry made by `entry`. */
function requestWithEntry(entry: (w: protobuf.Writer) => void): Uint8Array {
  return request((w) => {
    w.uint32((1 << 3) | 2).string('{a="b"}');
    w.uint32((2 << 3) | 2).fork();
    entry(w);
    w.ldelim();
  });
}

function timestamp(w: protobuf.Writer, seconds: number | string, nanos: number): void {
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 0).int64(seconds);
  w.uint32((2 << 3) | 0).int32(nanos);
  w.ldelim();
}

test('protobuf + snappy round trip keeps streams, lines, metadata and exact nanoseconds', () => {
  const entries: PushEntry[] = [
    { timestamp: 1763900000123456789n, line: 'first é', metadata: { trace_id: 'abc', user: 'ü' } },
    { timestamp: 1763900000123456790n, line: 'second' },
    { timestamp: 0n, line: 'epoch' },
    { timestamp: -1n, line: 'one ns before the epoch' },
    { timestamp: 253402300799999999999n, line: 'last valid second of year 9999' },
  ];
  const streams = push(
    encodePushRequest([
      { labels: '{namespace="shop", app="cart"}', entries },
      { labels: '{app="db"}', entries: [{ timestamp: 5n, line: '' }] },
    ]),
  );
  assert.equal(streams.length, 2);
  assert.equal(streams[0]!.labelsText, '{app="cart", namespace="shop"}');
  assert.deepEqual({ ...streams[0]!.labels }, { app: 'cart', namespace: 'shop' });
  assert.deepEqual(
    streams[0]!.entries,
    entries.map((e) => ({ ...e, metadata: e.metadata })),
  );
  assert.deepEqual(streams[1]!.entries, [{ timestamp: 5n, line: '', metadata: undefined }]);
});

test('decodes what protobufjs encodes from the same schema, field for field', () => {
  const bytes = encodePushRequest([
    { labels: '{a="b"}', entries: [{ timestamp: 1763900000123456789n, line: 'x', metadata: { k: 'v' } }] },
  ]);
  const reference = PushRequestType.toObject(PushRequestType.decode(bytes), { longs: String }) as {
    streams: { labels: string; entries: { timestamp: { seconds: string; nanos: number }; line: string }[] }[];
  };
  const ref = reference.streams[0]!.entries[0]!;
  assert.equal(ref.timestamp.seconds, '1763900000');
  assert.equal(ref.timestamp.nanos, 123456789);
  const [ours] = decodePushRequest(bytes);
  assert.equal(ours!.labelsText, reference.streams[0]!.labels);
  assert.equal(
    ours!.entries[0]!.timestamp,
    BigInt(ref.timestamp.seconds) * 1_000_000_000n + BigInt(ref.timestamp.nanos),
  );
  assert.equal(ours!.entries[0]!.line, ref.line);
});

test('skips unknown fields of every wire type, the format field, hashes and "parsed" labels', () => {
  const bytes = (() => {
    const w = protobuf.Writer.create();
    w.uint32((2 << 3) | 2).string('loki'); // format
    w.uint32((9 << 3) | 0).uint64(123); // unknown varint
    w.uint32((10 << 3) | 1).fixed64(1); // unknown 64-bit
    w.uint32((11 << 3) | 5).fixed32(1); // unknown 32-bit
    w.uint32((12 << 3) | 3); // unknown group ...
    w.uint32((1 << 3) | 0).uint32(1);
    w.uint32((12 << 3) | 4); // ... ended
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string('{a="b"}');
    w.uint32((3 << 3) | 0).uint64(42); // hash
    w.uint32((2 << 3) | 2).fork();
    timestamp(w, 10, 5);
    w.uint32((2 << 3) | 2).string('line');
    w.uint32((4 << 3) | 2)
      .fork()
      .uint32((1 << 3) | 2)
      .string('parsed')
      .ldelim();
    w.uint32((7 << 3) | 2).string('unknown in entry');
    w.ldelim();
    w.ldelim();
    return w.finish();
  })();
  const [s] = decodePushRequest(bytes);
  assert.deepEqual(s!.entries, [{ timestamp: 10_000_000_005n, line: 'line', metadata: undefined }]);
});

test('an entry without a timestamp gets Go zero time, as in Loki', () => {
  const [s] = decodePushRequest(requestWithEntry((w) => w.uint32((2 << 3) | 2).string('no time')));
  assert.equal(s!.entries[0]!.timestamp, GO_ZERO_TIME_NS);
});

test('duplicate structured metadata names keep the last value', () => {
  const [s] = decodePushRequest(
    requestWithEntry((w) => {
      timestamp(w, 1, 0);
      for (const v of ['1', '2']) {
        w.uint32((3 << 3) | 2).fork();
        w.uint32((1 << 3) | 2).string('k');
        w.uint32((2 << 3) | 2).string(v);
        w.ldelim();
      }
    }),
  );
  assert.deepEqual(s!.entries[0]!.metadata, { k: '2' });
});

test("malformed protobuf fails with the texts of Loki's decoder", () => {
  const good = encodePushRequest([{ labels: '{a="b"}', entries: [{ timestamp: 1n, line: 'hello' }] }]);
  rejects(good.subarray(0, good.length - 2), 'unexpected EOF');
  rejects(Uint8Array.from([0x0a]), 'unexpected EOF');
  rejects(Uint8Array.from([0x0a, 0x80]), 'unexpected EOF');
  rejects(Uint8Array.from([0x08, 0x01]), 'proto: wrong wireType = 0 for field Streams');
  rejects(Uint8Array.from([0x00]), 'proto: PushRequest: illegal tag 0 (wire type 0)');
  rejects(Uint8Array.from([0x0c]), 'proto: PushRequest: wiretype end group for non-group');
  rejects(Uint8Array.from([0x0f]), 'proto: wrong wireType = 7 for field Streams');
  rejects(Uint8Array.from([0x4f]), 'proto: illegal wireType 7');
  rejects(
    Uint8Array.from([0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    'proto: integer overflow',
  );
  // Loki's Stream.Unmarshal names the labels field "StructuredMetadata" in this message.
  rejects(
    request((w) => w.uint32((1 << 3) | 0).uint32(1)),
    'proto: wrong wireType = 0 for field StructuredMetadata',
  );
  rejects(
    request((w) => w.uint32((2 << 3) | 0).uint32(1)),
    'proto: wrong wireType = 0 for field Entries',
  );
  rejects(
    requestWithEntry((w) => w.uint32((2 << 3) | 0).uint32(1)),
    'proto: wrong wireType = 0 for field Line',
  );
  rejects(
    requestWithEntry((w) => w.uint32((1 << 3) | 0).uint32(1)),
    'proto: wrong wireType = 0 for field Timestamp',
  );
  rejects(
    requestWithEntry((w) => w.uint32((3 << 3) | 0).uint32(1)),
    'proto: wrong wireType = 0 for field StructuredMetadata',
  );
  rejects(
    requestWithEntry((w) =>
      w
        .uint32((3 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 0)
        .uint32(1)
        .ldelim(),
    ),
    'proto: wrong wireType = 0 for field Name',
  );
  rejects(
    requestWithEntry((w) =>
      w
        .uint32((1 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string('x')
        .ldelim(),
    ),
    'proto: wrong wireType = 2 for field Seconds',
  );
  rejects(
    requestWithEntry((w) =>
      w
        .uint32((1 << 3) | 2)
        .fork()
        .uint32(0)
        .ldelim(),
    ),
    'proto: Timestamp: illegal tag 0 (wire type 0)',
  );
  rejects(
    request((w) => w.uint32((12 << 3) | 4)),
    'proto: StreamAdapter: wiretype end group for non-group',
  );
});

test("timestamps outside Go's range fail as Loki's validateTimestamp says", () => {
  rejects(
    requestWithEntry((w) => timestamp(w, 1, 1_000_000_000)),
    'timestamp: &types.Timestamp{Seconds: 1,\nNanos: 1000000000,\n}: nanos not in range [0, 1e9)',
  );
  rejects(
    requestWithEntry((w) => timestamp(w, 1, -1)),
    /nanos not in range \[0, 1e9\)$/,
  );
  rejects(
    requestWithEntry((w) => timestamp(w, 253402300800, 0)),
    /Seconds: 253402300800,\nNanos: 0,\n} after 10000-01-01$/,
  );
  rejects(
    requestWithEntry((w) => timestamp(w, -62135596801, 0)),
    /before 0001-01-01$/,
  );
  // Beyond 2^53 the message still shows Go's exact int64.
  rejects(
    requestWithEntry((w) => timestamp(w, '4611686018427387905', 0)),
    /Seconds: 4611686018427387905,\nNanos: 0,\n} after 10000-01-01$/,
  );
  rejects(
    requestWithEntry((w) => timestamp(w, 1, -7)),
    'timestamp: &types.Timestamp{Seconds: 1,\nNanos: -7,\n}: nanos not in range [0, 1e9)',
  );
});

test('timestamps decode exactly, across seconds and before 1970', () => {
  const times = [
    1_700_000_000_123_456_789n,
    1_700_000_000_999_999_999n,
    1_700_000_001_000_000_000n,
    -1_500_000_000n,
    -1_000_000_000n,
    0n,
    253_402_300_799_999_999_999n,
    1_700_000_000_000_000_001n,
  ];
  const [s] = push(
    encodePushRequest([
      { labels: '{app="t"}', entries: times.map((timestamp) => ({ timestamp, line: 'x' })) },
    ]),
  );
  assert.deepEqual(
    s!.entries.map((e) => e.timestamp),
    times,
  );
});

test('structured metadata survives a protobuf push next to entries without it', () => {
  const [s] = push(
    encodePushRequest([
      {
        labels: '{app="x"}',
        entries: [
          {
            timestamp: 1n,
            line: 'a',
            metadata: { pod: 'p-1', trace_id: '0af7651916cd43dd8448eb211c80319c' },
          },
          { timestamp: 2n, line: 'b', metadata: {} },
        ],
      },
    ]),
  );
  assert.deepEqual(s!.entries[0]!.metadata, { pod: 'p-1', trace_id: '0af7651916cd43dd8448eb211c80319c' });
  assert.equal(s!.entries[1]!.metadata, undefined);
});

test('protobuf labels Loki cannot parse fail the whole request', () => {
  assert.throws(
    () => push(encodePushRequest([{ labels: '{app=x}', entries: [{ timestamp: 1n, line: 'x' }] }])),
    {
      code: 'malformed',
      message:
        'couldn\'t parse labels: 1:6: parse error: unexpected identifier "x" in label set, expected string',
    },
  );
});
