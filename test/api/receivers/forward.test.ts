/**
 * The Fluentd forward receiver (`--forward-listen`) with its real peer, fluent-logger from npm
 * (acks required), in every mode it sends (Message, PackedForward, CompressedPackedForward), the
 * shared-key handshake, the UDP heartbeat; Forward mode and malformed input by hand (no client
 * sends them on demand). Acks come only once the lines are stored: when the ack arrives the lines
 * are already found by a query.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fluentLogger from 'fluent-logger';
import { Packr } from 'msgpackr';
import { MsgpackFramer } from '../../../src/formats/forward/msgpack-framer.js';
import type { RunningServer } from '../../../src/server/app.js';
import { LOOPBACK, lines, received, startTestServer, streams, until } from './helpers.js';

const quiet = { info() {}, error() {} };

function sender(port: number, mode: string, extra: Record<string, unknown> = {}) {
  return fluentLogger.createFluentSender<Record<string, unknown>>('app', {
    host: '127.0.0.1',
    port,
    eventMode: mode,
    requireAckResponse: true,
    ackResponseTimeout: 10_000,
    flushInterval: 10,
    enableReconnect: false,
    internalLogger: quiet,
    ...extra,
  } as never);
}

const emit = (s: ReturnType<typeof sender>, label: string, data: Record<string, unknown>) =>
  new Promise<void>((resolve, reject) =>
    s.emit(label, data, (err?: Error) => (err ? reject(err) : resolve())),
  );

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: Socket) =>
  new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('forward receiver, no shared key', () => {
  let stop: () => Promise<void>;
  let server: RunningServer;
  let logs: string[];
  let port: number;
  before(async () => {
    const t = await startTestServer({
      receivers: { forward: { listen: LOOPBACK, maxMessageBytes: 64 << 10 } },
    });
    ({ server, logs, stop } = t);
    port = server.receivers.forward!.port;
  });
  after(() => stop());

  for (const mode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
    test(`fluent-logger ${mode}: acked lines are stored, the tag is a label`, async () => {
      const s = sender(port, mode);
      const label = mode.toLowerCase();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          emit(s, label, { message: `${mode} line ${i}`, level: 'info', user: { id: i } }),
        ),
      );
      // The ack came: the lines are durable, and a query finds them at once.
      const got = await lines(server.url, `{tag="app.${label}"}`);
      assert.equal(got.length, 20);
      assert.deepEqual(new Set(got), new Set(Array.from({ length: 20 }, (_, i) => `${mode} line ${i}`)));
      const [stream] = await streams(server.url, `{tag="app.${label}"}`);
      assert.equal(stream?.source, 'forward');
      const meta = await lines(server.url, `{tag="app.${label}"} | user_id="7"`);
      assert.deepEqual(meta, [`${mode} line 7`]);
      s.end('', null as never, () => {});
    });
  }

  test('counters: records and bytes accepted per protocol', async () => {
    assert.ok((await received(server.url, 'forward', 'accepted')) >= 60);
    assert.ok((await received(server.url, 'forward', 'accepted', 'bytes')) > 60 * 10);
  });

  test('Forward mode and kubernetes metadata (by hand: no npm client sends Forward mode)', async () => {
    const packr = new Packr({ useRecords: false });
    const s = await rawConnect(port);
    const now = Math.floor(Date.now() / 1000);
    const k8s = { namespace_name: 'shop', pod_name: 'cart-1', container_name: 'cart', host: 'node-a' };
    s.write(
      packr.pack([
        'kube.var.log',
        [
          [now - 1, { log: 'forward one', kubernetes: k8s }],
          [now, { log: 'forward two', kubernetes: k8s }],
        ],
        { chunk: 'abc' },
      ]),
    );
    const reply = await new Promise<Buffer>((resolve) => s.once('data', resolve));
    assert.deepEqual(new Packr({ useRecords: false }).unpack(reply), { ack: 'abc' });
    assert.deepEqual(await lines(server.url, '{namespace="shop", pod="cart-1"}'), [
      'forward one',
      'forward two',
    ]);
    s.destroy();
  });

  test('malformed input drops the connection with a logged reason; nothing stored; the server goes on', async () => {
    const before = await received(server.url, 'forward', 'accepted');
    for (const bad of [
      Buffer.from([0xc1]), // no msgpack value starts with 0xc1
      new Packr({ useRecords: false }).pack(['tag.only']),
      new Packr({ useRecords: false }).pack(['bad.time', 'x', { message: 'not stored' }]),
    ]) {
      const s = await rawConnect(port);
      s.on('error', () => {});
      s.write(bad);
      await closed(s);
    }
    assert.equal(logs.filter((l) => l.includes('dropping the connection')).length, 3);
    assert.deepEqual(await lines(server.url, '{tag="bad.time"}'), []);
    assert.equal(await received(server.url, 'forward', 'accepted'), before);
    // Still serving.
    const s = sender(port, 'Message');
    await emit(s, 'after', { message: 'still up' });
    assert.deepEqual(await lines(server.url, '{tag="app.after"}'), ['still up']);
  });

  test('a message over --forward-max-message-size is refused before it is buffered, the limit named', async () => {
    const s = await rawConnect(port);
    s.on('error', () => {});
    // A bin header announcing 1 MiB: refused as soon as the header is read.
    s.write(Buffer.from([0x93, 0xa3, 0x62, 0x69, 0x67, 0xc6, 0x00, 0x10, 0x00, 0x00]));
    await closed(s);
    assert.ok(
      logs.some((l) => /over the limit of 65536 bytes/.test(l)),
      logs.join('\n'),
    );
  });

  test('the UDP heartbeat is answered', async () => {
    const udp = createSocket('udp4');
    const reply = new Promise<Buffer>((resolve) => udp.once('message', resolve));
    udp.send(Buffer.from([0]), port, '127.0.0.1');
    assert.deepEqual([...(await reply)], [0]);
    udp.close();
  });
});

describe('forward receiver with a shared key', () => {
  let stop: () => Promise<void>;
  let server: RunningServer;
  let logs: string[];
  let port: number;
  before(async () => {
    const t = await startTestServer({
      receivers: { forward: { listen: LOOPBACK, sharedKey: 'secret-key', tenant: 'fluent' } },
    });
    ({ server, logs, stop } = t);
    port = server.receivers.forward!.port;
  });
  after(() => stop());

  test('the right key: HELO, PING, PONG, then acked events in the listener tenant', async () => {
    const s = sender(port, 'PackedForward', {
      security: { clientHostname: 'client-a', sharedKey: 'secret-key' },
    });
    await emit(s, 'secure', { message: 'with the key' });
    assert.deepEqual(await lines(server.url, '{tag="app.secure"}', { 'X-Scope-OrgID': 'fluent' }), [
      'with the key',
    ]);
    assert.deepEqual(await lines(server.url, '{tag="app.secure"}'), []);
  });

  test('a wrong key: PONG false, the connection closed, nothing stored', async () => {
    const s = sender(port, 'Message', { security: { clientHostname: 'client-b', sharedKey: 'wrong' } });
    const failed = new Promise<Error>((resolve) =>
      (s as unknown as { on(e: string, f: (err: Error) => void): void }).on('error', resolve),
    );
    s.emit('wrong', { message: 'must not be stored' });
    const err = await failed;
    assert.match(err.message, /shared_key mismatch/);
    await until('the refusal is logged', async () => logs.some((l) => /shared_key mismatch/.test(l)));
    assert.deepEqual(await lines(server.url, '{tag="app.wrong"}', { 'X-Scope-OrgID': 'fluent' }), []);
  });
});

test('MsgpackFramer finds values split across chunks at every byte', () => {
  const packr = new Packr({ useRecords: false });
  const values = [
    ['t', [[1, { a: 'x'.repeat(300) }]], { chunk: 'c' }],
    ['u', Buffer.alloc(70_000, 1), { size: 1 }],
    { map: [1, -1, 1.5, 2 ** 40, null, true] },
  ];
  const bytes = Buffer.concat(values.map((v) => packr.pack(v)));
  for (const step of [1, 7, 1000]) {
    const f = new MsgpackFramer(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += step) out.push(...f.push(bytes.subarray(i, i + step)));
    assert.equal(out.length, 3, `step ${step}`);
    assert.deepEqual(Buffer.concat(out), bytes);
  }
});

test('MsgpackFramer: a large message in small chunks is copied about once, not once per chunk', () => {
  const packr = new Packr({ useRecords: false });
  const feed = (bytes: Buffer, max: number) => {
    const f = new MsgpackFramer(max);
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 256) out.push(...f.push(bytes.subarray(i, i + 256)));
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], bytes);
    return f.copied;
  };
  // 4 MB in 256-byte chunks: concatenating per chunk would copy ~32 GB. The bin's header gives its
  // length, so its room is taken at once and each chunk is copied once.
  const packed = packr.pack(['t', Buffer.alloc(4 << 20, 7), { size: 1 }]);
  const once = feed(packed, 8 << 20);
  assert.ok(once <= packed.length, `copied ${once} of ${packed.length} bytes`);
  // Forward mode, many small entries: no length known ahead, the room doubles (copies < 3x).
  const events = Array.from({ length: 20_000 }, (_, k) => [k, { log: `line ${k} ${'x'.repeat(100)}` }]);
  const forward = packr.pack(['t', events]);
  const doubled = feed(forward, 8 << 20);
  assert.ok(doubled < 3 * forward.length, `copied ${doubled} of ${forward.length} bytes`);
});
