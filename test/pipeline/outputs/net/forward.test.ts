/**
 * @module The `forward` output against the Fluentd forward protocol v1: PackedForward and
 * CompressedPackedForward decoded by msgpackr, EventTime bytes, option `size` and `chunk`, acks,
 * timeouts and disconnections (retryable), tags per record, the shared-key handshake; and the
 * Output contract.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, Options } from '../../../../src/config/options.js';
import { forwardOutput } from '../../../../src/pipeline/outputs/net/forward.js';
import { entry, eventTime } from '../../../../src/pipeline/outputs/net/forward-codec.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { type OutputHarness, outputContract } from '../output-contract.js';
import { EventTime, FluentdPeer } from './fluentd-peer.js';
import { rec, signal, until } from './peers.js';

const make = (o: Record<string, unknown>) =>
  forwardOutput('f', new Options(o, ['outputs', 0]), { baseDir: '/tmp' });
const retryable = (e: unknown) => e instanceof OutputError && e.retryable;

async function withPeer(
  peerOpts: ConstructorParameters<typeof FluentdPeer>[0],
  fn: (p: FluentdPeer) => Promise<void>,
) {
  const p = new FluentdPeer(peerOpts);
  await p.tcp.start();
  try {
    await fn(p);
  } finally {
    await p.tcp.stop();
  }
}

describe('forward: encoding', () => {
  test('EventTime is fixext 8, type 0, seconds and nanoseconds big-endian', () => {
    assert.equal(eventTime(1_709_618_828_123_456_789n).toString('hex'), 'd700' + '65e6b68c' + '075bcd15');
  });

  test('an entry is [EventTime, record]', () => {
    const e = entry(1_000_000_000_000_000_001n, { message: 'hi' });
    assert.equal(e.toString('hex'), `92d7003b9aca0000000001${'81a76d657373616765a26869'}`);
  });
});

describe('forward: options', () => {
  test('bad options are ConfigErrors', () => {
    assert.throws(() => make({ url: 'udp://h:1' }), ConfigError);
    assert.throws(() => make({ url: 'tcp://h:1', compress: 'zstd' }), ConfigError);
    assert.throws(() => make({ url: 'tcp://h:1', ackTimeoutSeconds: 0 }), ConfigError);
    assert.throws(() => make({ url: 'tcp://h:1', requireAck: 'yes' }), ConfigError);
    assert.throws(() => make({ url: 'tcp://h:1', tags: 'x' }), /unknown field "tags"/);
  });
});

describe('forward over TCP', () => {
  test('PackedForward: tag, entries as bin, EventTime, record, option size and chunk; acked', async () => {
    await withPeer({}, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, tag: 'kube.logs' });
      const records = [rec('one', { attributes: { level: 'info' } }), rec('two', {}, 1)];
      await out.send(records, signal());
      assert.equal(p.messages.length, 1);
      const m = p.messages[0]!;
      assert.equal(m.tag, 'kube.logs');
      assert.equal(m.option.size, 2);
      assert.equal(typeof m.option.chunk, 'string');
      assert.equal(Buffer.from(m.option.chunk as string, 'base64').length, 16);
      assert.equal(m.option.compressed, undefined);
      const want = Buffer.concat(
        records.map((r) => entry(r.timestamp, { ...r.labels, ...r.attributes, message: r.body })),
      );
      assert.equal(m.entriesBytes.toString('hex'), want.toString('hex'));
      assert.deepEqual(m.entries[0], [
        new EventTime(1_709_618_828, 123_456_789),
        { kind: 'log', class: 'application', namespace: 'ns1', level: 'info', message: 'one' },
      ]);
      assert.deepEqual(m.entries[1]![0], new EventTime(1_709_618_828, 123_457_789));
      // The raw message: fixarray 3, the tag as a str, the entries as a bin.
      const raw = p.tcp.bytes;
      assert.equal(raw[0], 0x93);
      assert.equal(raw.subarray(2, 11).toString(), 'kube.logs');
      assert.equal(raw[11], 0xc4);
      await out.close();
    });
  });

  test('CompressedPackedForward with compress: gzip', async () => {
    await withPeer({}, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, compress: 'gzip', messageKey: 'log' });
      await out.send([rec('zipped'), rec('too', {}, 1)], signal());
      assert.equal(p.messages[0]!.option.compressed, 'gzip');
      assert.deepEqual(p.bodies('log'), ['zipped', 'too']);
      await out.close();
    });
  });

  test('tagFrom: one message per run of records with the same tag, in order', async () => {
    await withPeer({}, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, tagFrom: 'app', tag: 'default' });
      const withApp = (body: string, app?: string) => rec(body, { labels: app ? { app } : {} });
      await out.send([withApp('1', 'a'), withApp('2', 'a'), withApp('3', 'b'), withApp('4')], signal());
      assert.deepEqual(
        p.messages.map((m) => [m.tag, m.option.size]),
        [
          ['a', 2],
          ['b', 1],
          ['default', 1],
        ],
      );
      const chunks = new Set(p.messages.map((m) => m.option.chunk));
      assert.equal(chunks.size, 3);
      assert.deepEqual(p.bodies(), ['1', '2', '3', '4']);
      await out.close();
    });
  });

  test('no ack within ackTimeoutSeconds: retryable, the connection is dropped', async () => {
    await withPeer({ ack: false }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, ackTimeoutSeconds: 0.3 });
      const t0 = Date.now();
      await assert.rejects(
        out.send([rec('x')], signal()),
        (e: unknown) => retryable(e) && /no ack/.test(String(e)),
      );
      assert.ok(Date.now() - t0 >= 290);
      await until(
        'closed by the output',
        () => p.tcp.connections[0]!.socket.readableEnded || p.tcp.connections[0]!.socket.destroyed,
      );
      await out.close();
    });
  });

  test('requireAck: false resolves once written, and asks for no ack', async () => {
    await withPeer({ ack: false }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, requireAck: false });
      await out.send([rec('fire and forget')], signal());
      await until('message', () => p.messages.length === 1);
      assert.equal(p.messages[0]!.option.chunk, undefined);
      await out.close();
    });
  });

  test('the peer closes before acking: retryable', async () => {
    await withPeer({ dropOnMessage: true }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}` });
      await assert.rejects(out.send([rec('x')], signal()), retryable);
      await out.close();
    });
  });

  test('an aborted send rejects while waiting for the ack', async () => {
    await withPeer({ ack: false }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}` });
      const c = new AbortController();
      setTimeout(() => c.abort(new Error('stop')), 100);
      await assert.rejects(out.send([rec('x')], c.signal), /aborted/);
      await out.close();
    });
  });

  test('shared-key handshake: HELO, PING with the digest, PONG checked; then acked', async () => {
    await withPeer({ sharedKey: 's3cret' }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, sharedKey: 's3cret', selfHostname: 'agent-1' });
      await out.send([rec('authenticated')], signal());
      await out.send([rec('again')], signal());
      assert.equal(p.pings.length, 1);
      assert.equal(p.pings[0]![0], 'PING');
      assert.equal(p.pings[0]![1], 'agent-1');
      assert.deepEqual(p.bodies(), ['authenticated', 'again']);
      await out.close();
    });
  });

  test('a wrong shared key fails the handshake (retryable: the data is not at fault)', async () => {
    await withPeer({ sharedKey: 's3cret' }, async (p) => {
      const out = make({ url: `tcp://127.0.0.1:${p.port}`, sharedKey: 'wrong', ackTimeoutSeconds: 2 });
      await assert.rejects(
        out.send([rec('x')], signal()),
        (e: unknown) => retryable(e) && /authentication failed/.test(String(e)),
      );
      assert.equal(p.messages.length, 0);
      await out.close();
    });
  });
});

/** The contract's harness: a Fluentd peer made with `peerOpts`, an output with `outputOpts` to it. */
function contractHarness(
  peerOpts: ConstructorParameters<typeof FluentdPeer>[0],
  outputOpts: Record<string, unknown>,
): () => Promise<OutputHarness> {
  return async () => {
    const p = new FluentdPeer(peerOpts);
    await p.tcp.start();
    const output = make({ url: `tcp://127.0.0.1:${p.port}`, ackTimeoutSeconds: 5, ...outputOpts });
    return {
      output,
      received: async () => p.bodies(),
      stopPeer: () => p.tcp.stop(),
      startPeer: () => p.tcp.start(),
      async close() {
        await output.close();
        await p.tcp.stop();
      },
    };
  };
}

outputContract('forward', contractHarness(undefined, {}));
outputContract(
  'forward (gzip, shared key)',
  contractHarness({ sharedKey: 'k' }, { compress: 'gzip', sharedKey: 'k' }),
);
