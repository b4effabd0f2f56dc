import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePushRequestFast } from '../../../src/formats/loki-push/encode.js';
import {
  decodePushRequest,
  type EncodableStream,
  encodePushRequest,
  encodeWithProtobufjs,
  PushRequestType,
} from '../../../src/formats/loki-push/proto.js';

const shared = { pod_uid: 'a1b2', restart: '0', note: 'ünïcode ✓', empty: '' };

const streams: EncodableStream[] = [
  {
    labels: '{namespace="shop", pod="web-1"}',
    entries: [
      { timestamp: 1_700_000_000_123_456_789n, line: 'plain line', metadata: shared },
      { timestamp: 1_700_000_000_123_456_790n, line: 'same metadata object again', metadata: shared },
      { timestamp: 1_700_000_001_000_000_000n, line: 'no metadata' },
      { timestamp: 1_700_000_002_000_000_001n, line: '', metadata: {} },
      { timestamp: 0n, line: 'the epoch: seconds and nanos zero' },
      { timestamp: 9_999_999_999_999_999_999n, line: 'far future: seconds beyond 2^32' },
    ],
  },
  { labels: '{app="ü"}', entries: [{ timestamp: 5n, line: `${'x'.repeat(200)}\t"quoted"\n😀` }] },
  { labels: '{empty="entries"}', entries: [] },
];

test('the direct encoder writes exactly the bytes protobufjs writes', () => {
  const fast = encodePushRequestFast(streams);
  assert.ok(fast);
  assert.deepEqual(Buffer.from(fast), Buffer.from(encodeWithProtobufjs(streams)));
  // And a long line, whose length takes a three-byte varint.
  const long: EncodableStream[] = [
    { labels: '{a="b"}', entries: [{ timestamp: 1n, line: 'y'.repeat(70_000) }] },
  ];
  assert.deepEqual(Buffer.from(encodePushRequestFast(long)!), Buffer.from(encodeWithProtobufjs(long)));
});

test('it decodes back to the same message with protobufjs', () => {
  const decoded = PushRequestType.toObject(PushRequestType.decode(encodePushRequest(streams)), {
    longs: String,
  }) as { streams: { labels: string; entries: { line: string; structuredMetadata?: unknown[] }[] }[] };
  assert.equal(decoded.streams.length, 3);
  assert.equal(decoded.streams[0]!.entries[1]!.line, 'same metadata object again');
  assert.equal(decoded.streams[0]!.entries[0]!.structuredMetadata?.length, 4);
  assert.equal(decoded.streams[1]!.labels, '{app="ü"}');
});

test('a time before 1970 falls back to protobufjs', () => {
  const old: EncodableStream[] = [
    { labels: '{a="b"}', entries: [{ timestamp: -1_500_000_000n, line: 'old' }] },
  ];
  assert.equal(encodePushRequestFast(old), undefined);
  assert.deepEqual(Buffer.from(encodePushRequest(old)), Buffer.from(encodeWithProtobufjs(old)));
});

test('decoding: entries that end with the same metadata bytes share one object, with the right values', () => {
  const a = { pod_uid: 'u-1', restart: '0' };
  const bytes = encodeWithProtobufjs([
    {
      labels: '{a="b"}',
      entries: [
        { timestamp: 1n, line: 'one', metadata: a },
        { timestamp: 2n, line: 'two', metadata: { ...a } },
        { timestamp: 3n, line: 'three', metadata: { pod_uid: 'u-2', restart: '0' } },
        { timestamp: 4n, line: 'four', metadata: { pod_uid: 'u-2', restart: '0' } },
        { timestamp: 5n, line: 'five' },
        { timestamp: 6n, line: 'six', metadata: { pod_uid: 'u-2', restart: '0' } },
      ],
    },
  ]);
  const [stream] = decodePushRequest(bytes);
  const e = stream!.entries;
  assert.deepEqual(
    e.map((x) => x.metadata),
    [
      a,
      a,
      { pod_uid: 'u-2', restart: '0' },
      { pod_uid: 'u-2', restart: '0' },
      undefined,
      { pod_uid: 'u-2', restart: '0' },
    ],
  );
  assert.equal(e[0]!.metadata, e[1]!.metadata, 'the same bytes: one object');
  assert.notEqual(e[1]!.metadata, e[2]!.metadata);
  assert.equal(e[2]!.metadata, e[3]!.metadata);
  assert.deepEqual(
    e.map((x) => x.line),
    ['one', 'two', 'three', 'four', 'five', 'six'],
  );
});

test('with a scratch buffer the encoder writes the same bytes into it, growing it only when needed', () => {
  const scratch: { buf?: Buffer } = {};
  const expected = Buffer.from(encodeWithProtobufjs(streams));
  const first = encodePushRequestFast(streams, scratch)!;
  assert.deepEqual(Buffer.from(first), expected);
  const held = scratch.buf!;
  assert.equal(first.buffer, held.buffer, 'written into the scratch');
  const small: EncodableStream[] = [{ labels: '{a="b"}', entries: [{ timestamp: 7n, line: 'short' }] }];
  const second = encodePushRequestFast(small, scratch)!;
  assert.equal(scratch.buf, held, 'a smaller message reuses the scratch');
  assert.deepEqual(Buffer.from(second), Buffer.from(encodeWithProtobufjs(small)));
  const big: EncodableStream[] = [
    { labels: '{a="b"}', entries: [{ timestamp: 1n, line: 'z'.repeat(held.length * 3) }] },
  ];
  assert.deepEqual(Buffer.from(encodePushRequestFast(big, scratch)!), Buffer.from(encodeWithProtobufjs(big)));
  assert.ok(scratch.buf!.length > held.length, 'a larger one grows it');
});
