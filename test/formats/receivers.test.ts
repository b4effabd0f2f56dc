/**
 * The receivers' decoders alone: forward's modes and times, GELF chunk reassembly and its bounds,
 * GELF's required fields, HEC's concatenated events and its error codes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { FormatError } from '../../src/formats/errors.js';
import { decodeForward, timeOf, unpackValue } from '../../src/formats/forward/decode.js';
import { GelfChunks } from '../../src/formats/gelf/chunks.js';
import { gelfPayloadText, parseGelf } from '../../src/formats/gelf/decode.js';
import { decodeHecEvents, HecFormatError } from '../../src/formats/splunk-hec/decode.js';
import { entry } from '../../src/pipeline/outputs/net/forward-codec.js';

const packr = new Packr({ useRecords: false });
const limits = { maxBytes: 1 << 20, maxEvents: 1000 };

test('forward: times as integers, floats and EventTime; every mode', () => {
  assert.equal(timeOf(1_700_000_000), 1_700_000_000_000_000_000n);
  assert.equal(timeOf(1_700_000_000.25), 1_700_000_000_250_000_000n);
  assert.throws(() => timeOf('soon'), FormatError);
  const ns = 1_700_000_000_123_456_789n;
  const entries = Buffer.concat([entry(ns, { log: 'a' }), entry(ns + 1n, { log: 'b' })]);
  const decode = (v: unknown) => decodeForward(unpackValue(Buffer.from(packr.pack(v))), limits);
  const packed = decode(['t', entries, { chunk: 'c1' }]);
  assert.equal(packed.type, 'events');
  if (packed.type !== 'events') return;
  assert.equal(packed.mode, 'PackedForward');
  assert.equal(packed.chunk, 'c1');
  assert.deepEqual(
    packed.events.map((e) => [e.timeNs, e.record.log]),
    [
      [ns, 'a'],
      [ns + 1n, 'b'],
    ],
  );
  // Two gzip members one after the other, as the spec allows.
  const twoMembers = Buffer.concat([gzipSync(entries.subarray(0, 17)), gzipSync(entries.subarray(17))]);
  const compressed = decode(['t', twoMembers, { compressed: 'gzip' }]);
  assert.equal(compressed.type === 'events' && compressed.mode, 'CompressedPackedForward');
  assert.equal(compressed.type === 'events' && compressed.events.length, 2);
  const fwd = decode(['t', [[1, { m: 1 }]]]);
  assert.equal(fwd.type === 'events' && fwd.mode, 'Forward');
  const msg = decode(['t', 1, { m: 1 }, { chunk: 'x' }]);
  assert.equal(msg.type === 'events' && msg.mode, 'Message');
  assert.throws(() => decode(['t', 1, 'not a map']), /Message mode/);
  assert.throws(
    () => decode(['t', gzipSync(Buffer.alloc(2 << 20)), { compressed: 'gzip' }]),
    /over the limit/,
  );
});

/** A GELF chunk: magic, 8-byte id, seq, count, payload. */
const chunk = (id: number, seq: number, count: number, body: Buffer) =>
  Buffer.concat([Buffer.from([0x1e, 0x0f]), Buffer.alloc(7), Buffer.from([id, seq, count]), body]);

test('GELF chunks: reassembled in any order, duplicates ignored, expired after 5 s, bounded', () => {
  let now = 0;
  const c = new GelfChunks(100, 2, () => now);
  assert.equal(c.add(chunk(1, 1, 2, Buffer.from('world'))), undefined);
  assert.equal(c.add(chunk(1, 1, 2, Buffer.from('world'))), undefined);
  assert.equal(c.add(chunk(1, 0, 2, Buffer.from('hello ')))?.toString(), 'hello world');
  assert.equal(c.add(chunk(2, 0, 2, Buffer.from('never finished'))), undefined);
  now = 6000;
  assert.equal(c.add(chunk(3, 0, 1, Buffer.from('one')))?.toString(), 'one');
  assert.equal(c.expired, 1);
  assert.throws(() => c.add(chunk(4, 0, 2, Buffer.alloc(101))), /over the limit of 100 bytes/);
  assert.throws(() => c.add(chunk(5, 3, 2, Buffer.alloc(1))), /count/);
  const small = new GelfChunks(100, 1, () => 0);
  small.add(chunk(1, 0, 2, Buffer.from('a')));
  assert.throws(() => small.add(chunk(2, 0, 2, Buffer.from('b'))), /more than 1 chunked GELF messages/);
});

test('GELF messages: compressed or not; host and short_message required, _id reserved', () => {
  const doc = { version: '1.1', host: 'h', short_message: 'm', timestamp: 1700000000.5, _a: 'b' };
  const text = JSON.stringify(doc);
  assert.equal(gelfPayloadText(gzipSync(text), 1 << 20), text);
  const m = parseGelf(text);
  assert.equal(m.timestampNs, 1_700_000_000_500_000_000n);
  assert.throws(() => parseGelf(JSON.stringify({ ...doc, host: '' })), /"host"/);
  assert.throws(() => parseGelf(JSON.stringify({ ...doc, short_message: ' ' })), /short_message/);
  assert.throws(() => parseGelf(JSON.stringify({ ...doc, _id: 'x' })), /_id/);
  assert.throws(() => gelfPayloadText(gzipSync(Buffer.alloc(2048)), 1024), /over the limit of 1024/);
});

test('HEC events: one after another, braces inside strings, codes of the errors', () => {
  const events = decodeHecEvents(
    '{"event":"a {not} b"} {"event":{"k":[1,2]},"time":"1700000000.5"}\n{"event":"c"}',
    10,
  );
  assert.deepEqual(
    events.map((e) => e.event),
    ['a {not} b', { k: [1, 2] }, 'c'],
  );
  assert.equal(events[1]!.timeNs, 1_700_000_000_500_000_000n);
  const code = (text: string) => {
    try {
      decodeHecEvents(text, 10);
    } catch (err) {
      assert.ok(err instanceof HecFormatError);
      return [err.hecCode, err.invalidEventNumber];
    }
    return undefined;
  };
  assert.deepEqual(code(''), [5, undefined]);
  assert.deepEqual(code('{"event":"x"}{"host":"h"}'), [12, 1]);
  assert.deepEqual(code('{"event":""}'), [13, 0]);
  assert.deepEqual(code('{"event":"x"} nonsense'), [6, 1]);
  assert.throws(() => decodeHecEvents('{"event":1}'.repeat(11), 10), /more than 10 events/);
});
