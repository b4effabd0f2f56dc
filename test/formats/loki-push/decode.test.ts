import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { FormatError } from '../../../src/formats/errors.js';
import { decodePushBody, encodePushRequest, parseMediaType } from '../../../src/formats/loki-push/index.js';

const JSON_BODY = Buffer.from(
  JSON.stringify({
    streams: [{ stream: { app: 'x' }, values: [['1763900000123456789', 'hello', { k: 'v' }]] }],
  }),
);
const PROTO = encodePushRequest([
  {
    labels: '{app="x"}',
    entries: [{ timestamp: 1763900000123456789n, line: 'hello', metadata: { k: 'v' } }],
  },
]);
const SNAPPY_PROTO = snappy.compressSync(Buffer.from(PROTO));

function decodesHello(body: Buffer, type: string | undefined, encoding: string | undefined): void {
  const streams = decodePushBody(body, type, encoding);
  assert.equal(streams.length, 1);
  assert.equal(streams[0]!.labelsText, '{app="x"}');
  assert.deepEqual(streams[0]!.entries, [
    { timestamp: 1763900000123456789n, line: 'hello', metadata: { k: 'v' } },
  ]);
}

function rejects(
  body: Buffer,
  type: string | undefined,
  encoding: string | undefined,
  message: string | RegExp,
  status = 400,
  options = {},
): void {
  assert.throws(
    () => decodePushBody(body, type, encoding, options),
    (err: unknown) => {
      assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
      assert.equal(err.code, status === 413 ? 'too-large' : 'malformed'); // the API's 413 or 400
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('Content-Type: application/json with any parameters and any case is JSON', () => {
  decodesHello(JSON_BODY, 'application/json', undefined);
  decodesHello(JSON_BODY, 'application/json; charset=utf-8', undefined);
  decodesHello(JSON_BODY, 'Application/JSON ;charset="utf-8";', '');
});

test('Content-Type: every other type is snappy-compressed protobuf, as in Loki', () => {
  decodesHello(SNAPPY_PROTO, 'application/x-protobuf', undefined);
  decodesHello(SNAPPY_PROTO, 'application/octet-stream', undefined);
  decodesHello(SNAPPY_PROTO, 'application/x-protobuf', 'snappy');
});

test('Content-Type: missing or malformed fails as Go mime.ParseMediaType does', () => {
  rejects(JSON_BODY, undefined, undefined, 'mime: no media type');
  rejects(JSON_BODY, '', undefined, 'mime: no media type');
  rejects(JSON_BODY, 'application/json; charsetutf-8', undefined, 'mime: invalid media parameter');
  rejects(JSON_BODY, 'application/', undefined, 'mime: expected token after slash');
  rejects(JSON_BODY, 'application json', undefined, 'mime: expected slash after first token');
  rejects(JSON_BODY, 'application/json; a=1; a=2', undefined, 'mime: duplicate parameter name');
});

test('JSON sent under another type fails on snappy and says why', () => {
  rejects(
    JSON_BODY,
    'text/plain',
    undefined,
    /^snappy: corrupt input.* \(a Content-Type other than application\/json means snappy-compressed protobuf, got "text\/plain"\)$/,
  );
});

test('Content-Encoding: gzip and deflate (raw, as Go compress/flate), for JSON and protobuf', () => {
  decodesHello(zlib.gzipSync(JSON_BODY), 'application/json', 'gzip');
  decodesHello(zlib.deflateRawSync(JSON_BODY), 'application/json; charset=utf-8', 'deflate');
  // Loki still expects snappy inside a gzip'd protobuf body.
  decodesHello(zlib.gzipSync(SNAPPY_PROTO), 'application/x-protobuf', 'gzip');
  decodesHello(zlib.deflateRawSync(SNAPPY_PROTO), 'application/x-protobuf', 'deflate');
});

test('Content-Encoding: anything else fails, matched exactly as Go does', () => {
  rejects(JSON_BODY, 'application/json', 'br', 'Content-Encoding "br" not supported');
  rejects(JSON_BODY, 'application/json', 'GZIP', 'Content-Encoding "GZIP" not supported');
  rejects(JSON_BODY, 'application/json', 'gzip, deflate', 'Content-Encoding "gzip, deflate" not supported');
});

test('Content-Encoding: snappy on a JSON body is not undone, as in Loki', () => {
  rejects(snappy.compressSync(JSON_BODY), 'application/json', 'snappy', /^invalid JSON in push request: /);
});

test('malformed gzip, deflate and snappy fail with 400 and what is wrong', () => {
  const gz = zlib.gzipSync(JSON_BODY);
  rejects(JSON_BODY, 'application/json', 'gzip', 'gzip: invalid header');
  rejects(gz.subarray(0, gz.length - 12), 'application/json', 'gzip', 'unexpected EOF');
  const badCrc = Buffer.from(gz);
  badCrc[badCrc.length - 6]! ^= 0xff;
  rejects(badCrc, 'application/json', 'gzip', 'gzip: invalid checksum');
  rejects(Buffer.alloc(0), 'application/json', 'gzip', 'EOF');
  rejects(Buffer.from([0xff, 0xff, 0xff]), 'application/json', 'deflate', /^flate: corrupt input \(/);
  rejects(Buffer.alloc(0), 'application/json', 'deflate', 'unexpected EOF');
  // HTTP's zlib-wrapped "deflate" is not what Loki reads.
  rejects(zlib.deflateSync(JSON_BODY), 'application/json', 'deflate', /^flate: corrupt input \(/);
  rejects(Buffer.from(PROTO), 'application/x-protobuf', undefined, /^snappy: corrupt input/);
  rejects(Buffer.alloc(0), 'application/x-protobuf', undefined, 'snappy: corrupt input');
  rejects(
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    'application/x-protobuf',
    undefined,
    'snappy: corrupt input',
  );
});

test("malformed protobuf inside valid snappy fails with Loki's proto message", () => {
  rejects(
    snappy.compressSync(Buffer.from(PROTO.subarray(0, PROTO.length - 1))),
    'application/x-protobuf',
    undefined,
    'unexpected EOF',
  );
});

test('bodies over the limits get 413, compressed or not', () => {
  rejects(
    JSON_BODY,
    'application/json',
    undefined,
    `request body too large: message size too large than max (${JSON_BODY.length} vs 10)`,
    413,
    {
      maxBodyBytes: 10,
    },
  );
  const bomb = zlib.gzipSync(Buffer.alloc(1_000_000, 0x20));
  rejects(
    bomb,
    'application/json',
    'gzip',
    /^request body too large: decompressed message size too large than max/,
    413,
    {
      maxDecompressedBytes: 1000,
    },
  );
  rejects(
    zlib.deflateRawSync(Buffer.alloc(1_000_000, 0x20)),
    'application/json',
    'deflate',
    /^request body too large: /,
    413,
    {
      maxDecompressedBytes: 1000,
    },
  );
  const bigProto = snappy.compressSync(Buffer.alloc(100_000));
  rejects(
    bigProto,
    'application/x-protobuf',
    undefined,
    'request body too large: message size too large than max (100000 vs 1000)',
    413,
    {
      maxDecompressedBytes: 1000,
    },
  );
});

test('the decompressed limit is inclusive: max bytes pass, one more is 413', () => {
  const padded = (n: number) => Buffer.concat([JSON_BODY, Buffer.alloc(n - JSON_BODY.length, 0x20)]);
  decodesHello(zlib.gzipSync(padded(1000)), 'application/json', 'gzip');
  assert.equal(
    decodePushBody(zlib.gzipSync(padded(1000)), 'application/json', 'gzip', { maxDecompressedBytes: 1000 })
      .length,
    1,
  );
  rejects(zlib.gzipSync(padded(1001)), 'application/json', 'gzip', /than max \(1001 vs 1000\)$/, 413, {
    maxDecompressedBytes: 1000,
  });
});

test('parseMediaType lower-cases and strips parameters', () => {
  assert.equal(parseMediaType(' Application/X-Protobuf '), 'application/x-protobuf');
  assert.equal(parseMediaType('application/json;charset=utf-8'), 'application/json');
  assert.equal(parseMediaType('application/json; foo="a;b"'), 'application/json');
});
