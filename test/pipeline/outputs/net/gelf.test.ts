/**
 * @module The `gelf` output against GELF 1.1: message fields, UDP chunks (magic, message id, sequence
 * number and count, at most 128) reassembled and decompressed, TCP with NUL delimiters; and the
 * Output contract over UDP and TCP.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { gunzipSync, inflateSync } from 'node:zlib';
import { ConfigError, Options } from '../../../../src/config/options.js';
import { gelfDatagrams, gelfOutput } from '../../../../src/pipeline/outputs/net/gelf.js';
import {
  gelfFieldName,
  gelfMessage,
  gelfTimestamp,
} from '../../../../src/pipeline/outputs/net/gelf-encode.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { type OutputHarness, outputContract } from '../output-contract.js';
import { rec, signal, TcpPeer, UdpPeer, until } from './peers.js';

const ctx = { baseDir: '/tmp' };
const make = (o: Record<string, unknown>) => gelfOutput('g', new Options(o, ['outputs', 0]), ctx);

/** Reassembles GELF datagrams (chunked or not) into payloads, in order of completion. */
export function reassemble(datagrams: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const partial = new Map<string, Buffer[]>();
  for (const d of datagrams) {
    if (d[0] !== 0x1e || d[1] !== 0x0f) {
      out.push(d);
      continue;
    }
    const id = d.subarray(2, 10).toString('hex');
    const seq = d[10]!;
    const count = d[11]!;
    assert.ok(count >= 1 && count <= 128, `sequence count ${count}`);
    assert.ok(seq < count, `sequence number ${seq} of ${count}`);
    const parts = partial.get(id) ?? new Array<Buffer>(count);
    partial.set(id, parts);
    parts[seq] = d.subarray(12);
    if (parts.filter(Boolean).length === count) {
      out.push(Buffer.concat(parts));
      partial.delete(id);
    }
  }
  assert.equal(partial.size, 0, 'incomplete chunked messages');
  return out;
}

function decompress(p: Buffer): Record<string, unknown> {
  let text: Buffer = p;
  if (p[0] === 0x1f && p[1] === 0x8b) text = gunzipSync(p);
  else if (p[0] === 0x78) text = inflateSync(p);
  return JSON.parse(text.toString('utf8')) as Record<string, unknown>;
}

describe('gelf: messages', () => {
  test('timestamp is exact seconds with the fraction', () => {
    assert.equal(gelfTimestamp(1_709_618_828_123_456_789n), '1709618828.123456789');
    assert.equal(gelfTimestamp(1_709_618_828_500_000_000n), '1709618828.5');
    assert.equal(gelfTimestamp(1_709_618_828_000_000_000n), '1709618828');
  });

  test('additional field names: invalid characters replaced, _id avoided', () => {
    assert.equal(gelfFieldName('app.kubernetes.io/name'), 'app.kubernetes.io_name');
    assert.equal(gelfFieldName('id'), 'id_');
    assert.equal(gelfFieldName('trace-id'), 'trace-id');
  });

  test('one record as GELF 1.1, byte for byte', () => {
    const r = rec('short line', { attributes: { level: 'error', trace_id: 'abc', 'bad key': 'x', id: '7' } });
    assert.equal(
      gelfMessage(r, 'node-1'),
      '{"version":"1.1","host":"node-1","short_message":"short line","timestamp":1709618828.123456789,' +
        '"level":3,"_kind":"log","_class":"application","_namespace":"ns1","_level":"error",' +
        '"_trace_id":"abc","_bad_key":"x","_id_":"7"}',
    );
  });

  test('a long or multi-line body: first line as short_message, all of it as full_message', () => {
    const m = JSON.parse(gelfMessage(rec('panic: boom\n  at main.go:1\n'), 'h')) as Record<string, unknown>;
    assert.equal(m.short_message, 'panic: boom');
    assert.equal(m.full_message, 'panic: boom\n  at main.go:1\n');
    assert.equal(m.level, undefined);
    const long = 'x'.repeat(300);
    const m2 = JSON.parse(gelfMessage(rec(long), 'h')) as Record<string, unknown>;
    assert.equal(m2.short_message, 'x'.repeat(250));
    assert.equal(m2.full_message, long);
    const m3 = JSON.parse(gelfMessage(rec(''), 'h')) as Record<string, unknown>;
    assert.equal(m3.short_message, '-');
    assert.equal(m3.full_message, '');
  });

  test('a record too big for 128 chunks is cut and marked', () => {
    const body = 'y'.repeat(300_000);
    const d = gelfDatagrams(rec(body), 'h', 'none', 1420);
    assert.ok(d.length <= 128);
    const m = decompress(reassemble(d)[0]!);
    assert.equal(m._kjournal_truncated, 'true');
    assert.ok(typeof m.full_message === 'string' && body.startsWith(m.full_message));
  });
});

describe('gelf: options', () => {
  test('bad options are ConfigErrors with the field path', () => {
    assert.throws(
      () => make({ url: 'tcp://127.0.0.1:1', compression: 'gzip' }),
      (e: unknown) => e instanceof ConfigError && e.path.join('.') === 'outputs.0.compression',
    );
    assert.throws(() => make({ url: 'http://x:1' }), ConfigError);
    assert.throws(() => make({ url: 'udp://x' }), ConfigError);
    assert.throws(() => make({ url: 'udp://x:1', chunkSize: 10 }), ConfigError);
    assert.throws(() => make({ url: 'udp://x:1', compresion: 'gzip' }), /unknown field/);
  });
});

describe('gelf over UDP', () => {
  const peer = new UdpPeer();
  after(() => peer.stop());

  for (const compression of ['gzip', 'zlib', 'none'] as const) {
    test(`compression ${compression}: small messages in one datagram, a big one chunked`, async () => {
      if (peer.port === 0) await peer.start();
      peer.datagrams.length = 0;
      const out = make({ url: `udp://127.0.0.1:${peer.port}`, compression, host: 'h1' });
      const big = Array.from({ length: 4000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}`).join(' ');
      const records = [rec('hello'), rec(big, {}, 1), rec('bye', {}, 2)];
      await out.send(records, signal());
      await until('3 messages', () => {
        try {
          return reassemble(peer.datagrams).length === 3;
        } catch {
          return false;
        }
      });
      for (const d of peer.datagrams) assert.ok(d.length <= 1420, `datagram of ${d.length} bytes`);
      const chunked = peer.datagrams.filter((d) => d[0] === 0x1e && d[1] === 0x0f);
      assert.ok(chunked.length >= 2, 'the big message is chunked');
      const ids = new Set(chunked.map((d) => d.subarray(2, 10).toString('hex')));
      assert.equal(ids.size, 1);
      assert.deepEqual(
        chunked.map((d) => d[10]),
        chunked.map((_, i) => i),
      );
      for (const d of chunked) assert.equal(d[11], chunked.length);
      const first = peer.datagrams[0]!;
      if (compression === 'gzip') assert.deepEqual([...first.subarray(0, 2)], [0x1f, 0x8b]);
      if (compression === 'zlib') assert.equal(first[0], 0x78);
      if (compression === 'none') assert.equal(first[0], 0x7b);
      const msgs = reassemble(peer.datagrams).map(decompress);
      assert.deepEqual(
        msgs.map((m) => m.full_message ?? m.short_message),
        ['hello', big, 'bye'],
      );
      assert.equal(msgs[0]!.host, 'h1');
      assert.equal(msgs[0]!.version, '1.1');
      assert.equal(msgs[0]!.timestamp, Number('1709618828.123456789'));
      await out.close();
    });
  }
});

describe('gelf over TCP', () => {
  test('NUL-delimited uncompressed JSON, byte for byte', async () => {
    const peer = new TcpPeer();
    await peer.start();
    const out = make({ url: `tcp://127.0.0.1:${peer.port}`, host: 'h' });
    const records = [rec('a', { attributes: { level: 'warn' } }), rec('b\nc', {}, 1)];
    await out.send(records, signal());
    const want = `${records.map((r) => gelfMessage(r, 'h')).join('\0')}\0`;
    await until('bytes', () => peer.bytes.length >= Buffer.byteLength(want));
    assert.equal(peer.bytes.toString('utf8'), want);
    await out.close();
    await peer.stop();
  });

  test('a peer that went away: retryable error, then a new connection', async () => {
    const peer = new TcpPeer();
    await peer.start();
    const out = make({ url: `tcp://127.0.0.1:${peer.port}`, host: 'h' });
    await out.send([rec('one')], signal());
    await peer.stop();
    await assert.rejects(
      out.send([rec('two')], signal()),
      (e: unknown) => e instanceof OutputError && e.retryable,
    );
    await peer.start();
    await out.send([rec('two')], signal());
    await until(
      'second connection',
      () => peer.connections.length === 2 && peer.connections[1]!.bytes.length > 0,
    );
    assert.match(peer.connections[1]!.bytes.toString(), /"short_message":"two"/);
    await out.close();
    await peer.stop();
  });
});

function bodiesOf(payloads: Buffer[]): string[] {
  return payloads.map((p) => {
    const m = decompress(p);
    return String(m.full_message ?? m.short_message);
  });
}

outputContract('gelf (udp)', async (): Promise<OutputHarness> => {
  const peer = new UdpPeer();
  await peer.start();
  const output = make({ url: `udp://127.0.0.1:${peer.port}` });
  return {
    output,
    async received() {
      await new Promise((r) => setTimeout(r, 100));
      return bodiesOf(reassemble(peer.datagrams));
    },
    async close() {
      await output.close();
      await peer.stop();
    },
  };
});

outputContract('gelf (tcp)', async (): Promise<OutputHarness> => {
  const peer = new TcpPeer();
  await peer.start();
  const output = make({ url: `tcp://127.0.0.1:${peer.port}` });
  return {
    output,
    async received() {
      await new Promise((r) => setTimeout(r, 100));
      const text = peer.bytes.toString('utf8');
      const parts = text.split('\0').slice(0, -1);
      return bodiesOf(parts.map((p) => Buffer.from(p)));
    },
    stopPeer: () => peer.stop(),
    startPeer: () => peer.start(),
    async close() {
      await output.close();
      await peer.stop();
    },
  };
});
