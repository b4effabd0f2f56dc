import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { FormatError } from '../../../src/formats/errors.js';
import {
  DEFAULT_MAX_PUSH_ENTRIES,
  decodeInflatedPushBody,
  decodePushBody,
  encodePushRequest,
  inflatePushBody,
} from '../../../src/formats/loki-push/index.js';
import { MAX_JSON_VALUES } from '../../../src/util/json-bounds.js';

function isRefused(status: number, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
    assert.equal(err.code, status === 413 ? 'too-large' : 'malformed'); // the API's 413 or 400
    assert.match(err.message, message);
    return true;
  };
}

const entries = (n: number) => Array.from({ length: n }, (_, i) => [`${1763900000000000000 + i}`, 'x']);
const jsonPush = (values: unknown[]) =>
  Buffer.from(JSON.stringify({ streams: [{ stream: { app: 'x' }, values }] }));

test('a JSON push deeper than 1,000 levels is a 400 before it is parsed', () => {
  const deep = Buffer.from(`{"streams":[{"stream":{"app":"x"},"values":[${'['.repeat(2000)}`);
  assert.throws(
    () => decodePushBody(deep, 'application/json', undefined),
    isRefused(400, /^JSON nesting depth exceeds the maximum allowed \(1000\)$/),
  );
  // Shallow enough, however broken: the parser's own error.
  assert.throws(
    () => decodePushBody(Buffer.from('[[[['), 'application/json', undefined),
    isRefused(400, /^invalid JSON in push request/),
  );
});

test('a JSON push of more values than the bound is a 413', () => {
  const flat = Buffer.from(`{"streams":[{"values":[${'[],'.repeat(MAX_JSON_VALUES / 2 + 1)}[]]}]}`);
  assert.throws(
    () => decodePushBody(flat, 'application/json', undefined),
    isRefused(413, /^request body too large: JSON body holds more than 2000000 values/),
  );
});

test('entries and streams per push are capped, JSON and protobuf alike', () => {
  const opts = { maxEntries: 10 };
  assert.equal(
    decodePushBody(jsonPush(entries(9)), 'application/json', undefined, opts)[0]!.entries.length,
    9,
  );
  const tooMany = /^request body too large: a push may hold at most 10 entries and streams/;
  assert.throws(
    () => decodePushBody(jsonPush(entries(10)), 'application/json', undefined, opts),
    isRefused(413, tooMany),
  );
  const proto = (n: number, streams = 1) =>
    snappy.compressSync(
      Buffer.from(
        encodePushRequest(
          Array.from({ length: streams }, (_, s) => ({
            labels: `{app="x${s}"}`,
            entries: entries(n).map(([ts]) => ({ timestamp: BigInt(ts!), line: 'x' })),
          })),
        ),
      ),
    );
  assert.equal(decodePushBody(proto(9), 'application/x-protobuf', undefined, opts)[0]!.entries.length, 9);
  assert.throws(
    () => decodePushBody(proto(10), 'application/x-protobuf', undefined, opts),
    isRefused(413, tooMany),
  );
  // Streams count too: empty ones cost as much as an entry.
  assert.throws(
    () => decodePushBody(proto(0, 11), 'application/x-protobuf', undefined, opts),
    isRefused(413, tooMany),
  );
  assert.equal(DEFAULT_MAX_PUSH_ENTRIES, 100_000);
});

test('protobuf structured metadata pairs are capped across the push', () => {
  // One entry whose metadata field repeats 2,000,001 times (each a 4-byte pair "a"=""): built by hand.
  const pair = Buffer.from([0x1a, 0x03, 0x0a, 0x01, 0x61]);
  const n = MAX_JSON_VALUES + 1;
  const pairs = Buffer.alloc(pair.length * n);
  for (let i = 0; i < n; i++) pair.copy(pairs, i * pair.length);
  const varint = (v: number) => {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return Buffer.from(out);
  };
  // StreamAdapter field 2 (an entry) holding the pairs; PushRequest field 1 holding the stream.
  const stream = Buffer.concat([Buffer.from([0x12]), varint(pairs.length), pairs]);
  const body = Buffer.concat([Buffer.from([0x0a]), varint(stream.length), stream]);
  assert.throws(
    () => decodePushBody(snappy.compressSync(body), 'application/x-protobuf', undefined),
    isRefused(413, /at most 2000000 structured metadata pairs/),
  );
});

test('inflatePushBody streams gzip and deflate, stops a bomb at the scanner, and fails as decodePushBody does', async () => {
  const body = jsonPush(entries(3));
  for (const [enc, z] of [
    ['gzip', zlib.gzipSync(body)],
    ['deflate', zlib.deflateRawSync(body)],
    [undefined, body],
  ] as const) {
    const plain = await inflatePushBody(z, enc, 1 << 20);
    assert.equal(decodeInflatedPushBody(plain, 'application/json')[0]!.entries.length, 3);
  }
  // 30 MB of "[" in 30 KB: the scanner sees the first inflated chunk and inflating stops.
  const bomb = zlib.gzipSync(Buffer.alloc(30 << 20, '['), { level: 9 });
  let seen = 0;
  await assert.rejects(
    inflatePushBody(bomb, 'gzip', 64 << 20, (chunk) => {
      seen += chunk.length;
      if (seen > 1 << 20) throw new Error('scanned too far');
      throw new FormatError('malformed', 'stop');
    }),
    isRefused(400, /^stop$/),
  );
  // The same texts as the synchronous path.
  const gz = zlib.gzipSync(body);
  const cases: [Buffer, string, RegExp, number][] = [
    [body, 'gzip', /^gzip: invalid header$/, 400],
    [gz.subarray(0, gz.length - 12), 'gzip', /^unexpected EOF$/, 400],
    [Buffer.alloc(0), 'gzip', /^EOF$/, 400],
    [Buffer.from([0xff, 0xff, 0xff]), 'deflate', /^flate: corrupt input \(/, 400],
    [
      zlib.gzipSync(Buffer.alloc(100_000, 0x20)),
      'gzip',
      /^request body too large: decompressed message size too large than max/,
      413,
    ],
    [body, 'br', /^Content-Encoding "br" not supported$/, 400],
  ];
  for (const [b, enc, message, status] of cases) {
    await assert.rejects(inflatePushBody(b, enc, 1000), isRefused(status, message));
    assert.throws(
      () => decodePushBody(b, 'application/json', enc, { maxDecompressedBytes: 1000 }),
      isRefused(status, message),
    );
  }
});
