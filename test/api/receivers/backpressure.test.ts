/**
 * Back-pressure and bounds of the receivers, against a journal that holds its writes: a TCP
 * receiver stops reading the connection while its lines are being stored (the sender's socket
 * buffer fills instead of the server's memory), and reads again once they are; the HTTP receivers
 * answer 503 with Retry-After while writes queue; bodies over the limit are 413 naming it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { registerElasticsearchApi } from '../../../src/api/elasticsearch/routes.js';
import { startForwardListener } from '../../../src/api/forward/listener.js';
import { Router } from '../../../src/api/http/router.js';
import { registerJournalUploadApi } from '../../../src/api/journal-upload/routes.js';
import { registerOtlpApi } from '../../../src/api/otlp/routes.js';
import { Intake } from '../../../src/api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../../../src/api/receivers/metrics.js';
import { registerHecApi } from '../../../src/api/splunk/routes.js';
import { startSyslogListeners } from '../../../src/api/syslog/listener.js';
import { RequestAccess } from '../../../src/auth/access.js';
import { ANONYMOUS_USER } from '../../../src/auth/types.js';
import { DEFAULT_PUSH_LIMITS } from '../../../src/formats/loki-push/index.js';
import type { LogRecord } from '../../../src/model/record.js';
import { entry, packedForward } from '../../../src/pipeline/outputs/net/forward-codec.js';
import { routeCaller, until } from './helpers.js';

/** A journal whose writes wait until released; counts what it was given. */
class HeldJournal {
  written = 0;
  calls = 0;
  private waiters: (() => void)[] = [];
  held = true;
  admitWrite(): void {}
  async write(_tenant: string, records: LogRecord[]) {
    this.calls++;
    if (this.held) await new Promise<void>((r) => this.waiters.push(r));
    this.written += records.length;
    return { stored: records.length, duplicates: 0 };
  }
  release(): void {
    this.held = false;
    for (const w of this.waiters.splice(0)) w();
  }
}

const log = () => {};

test('forward: a connection is not read while its message is being stored; it resumes after', async () => {
  const journal = new HeldJournal();
  const intake = new Intake({ journal: journal as never, limits: DEFAULT_PUSH_LIMITS });
  const counter = new ProtocolCounter(receiverCounters(new Registry()), 'forward');
  const l = await startForwardListener({
    host: '127.0.0.1',
    port: 0,
    intake,
    counter,
    tenant: 'default',
    maxMessageBytes: 1 << 20,
    maxDecodedBytes: 1 << 20,
    maxEvents: 100_000,
    log,
  });
  const now = BigInt(Date.now()) * 1_000_000n;
  const line = 'x'.repeat(200);
  const msg = packedForward(
    't',
    Array.from({ length: 1000 }, (_, i) => entry(now + BigInt(i), { message: line })),
    false,
    false,
  ).bytes;
  const total = 200; // 200 messages of ~220 KB: ~44 MB
  const sock = connect(l.address.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  for (let i = 0; i < total; i++) sock.write(msg);
  await until('the first write reaches the journal', async () => journal.calls >= 1);
  await new Promise((r) => setTimeout(r, 300));
  // The server stopped reading: one write in the journal, the rest in the sender's buffers.
  assert.equal(journal.calls, 1);
  assert.ok(sock.writableLength > 20 << 20, `the sender still holds ${sock.writableLength} bytes`);
  journal.release();
  await until('every line stored', async () => journal.written === total * 1000, 20_000);
  sock.destroy();
  await l.close();
});

test('syslog over TCP: the same, and the lines are stored once released', async () => {
  const journal = new HeldJournal();
  const intake = new Intake({ journal: journal as never, limits: DEFAULT_PUSH_LIMITS });
  const counter = new ProtocolCounter(receiverCounters(new Registry()), 'syslog');
  const l = await startSyslogListeners({
    tcp: { host: '127.0.0.1', port: 0 },
    intake,
    counter,
    tenant: 'default',
    log,
  });
  const stamp = new Date().toISOString();
  const frame = (i: number) => {
    const m = `<14>1 ${stamp} h app - - - line ${i} ${'y'.repeat(150)}`;
    return `${Buffer.byteLength(m)} ${m}`;
  };
  const n = 200_000;
  const sock = connect(l.tcp!.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  for (let i = 0; i < n; i += 1000) sock.write(Array.from({ length: 1000 }, (_, j) => frame(i + j)).join(''));
  await until('the first write', async () => journal.calls >= 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(journal.calls, 1);
  assert.ok(sock.writableLength > 10 << 20, `the sender still holds ${sock.writableLength} bytes`);
  journal.release();
  await until('every line stored', async () => journal.written === n, 20_000);
  sock.destroy();
  await l.close();
});

test('Splunk HEC: 503 with Retry-After while writes queue; 413 naming the limit', async () => {
  const journal = new HeldJournal();
  const intake = new Intake({
    journal: journal as never,
    limits: DEFAULT_PUSH_LIMITS,
    maxInFlight: 1,
    maxQueued: 1,
  });
  const router = new Router();
  registerHecApi(router, {
    intake,
    counter: new ProtocolCounter(receiverCounters(new Registry()), 'splunk_hec'),
    maxBodyBytes: 1024,
    maxEvents: 100,
  });
  const route = router.matchPath('/services/collector/event')!.route;
  const call = (body: string) => {
    const req = Object.assign(Readable.from([Buffer.from(body)]), {
      headers: { 'content-length': String(Buffer.byteLength(body)) },
    });
    const access = new RequestAccess(
      ANONYMOUS_USER,
      'default',
      '/services/collector/event',
      async () => 'allow',
    );
    const ctx = {
      req,
      url: new URL('http://x/services/collector/event'),
      params: new URLSearchParams(),
      access,
    } as never;
    return route.handler(ctx).catch((err: unknown) => route.onError(err, ctx));
  };
  const first = call('{"event":"one"}'); // runs, held in the journal
  const second = call('{"event":"two"}'); // waits its turn
  await until('two writes queued', async () => journal.calls === 1 && intake.queued === 1);
  const third = await call('{"event":"three"}');
  assert.equal(third.status, 503);
  assert.equal(third.headers?.['retry-after'], '1');
  assert.deepEqual(JSON.parse(String(third.body)), { text: 'Server is busy', code: 9 });
  journal.release();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  const big = await call(`{"event":"${'z'.repeat(2000)}"}`);
  assert.equal(big.status, 413);
  assert.match(String(big.body), /limit is 1024 bytes/);
});

test('OTLP, Elasticsearch bulk, journal upload: the same intake, so 503/429 with Retry-After while writes queue', async () => {
  const journal = new HeldJournal();
  const intake = new Intake({
    journal: journal as never,
    limits: DEFAULT_PUSH_LIMITS,
    maxInFlight: 1,
    maxQueued: 1,
  });
  const counters = receiverCounters(new Registry());
  const router = new Router();
  const common = { intake, maxBodyBytes: 1 << 20, maxRecords: 100 };
  registerOtlpApi(router, { ...common, counter: new ProtocolCounter(counters, 'otlp') });
  registerElasticsearchApi(router, {
    ...common,
    counter: new ProtocolCounter(counters, 'elasticsearch'),
    version: 'test',
  });
  registerJournalUploadApi(router, { ...common, counter: new ProtocolCounter(counters, 'journal-upload') });
  const call = routeCaller(router);
  const ns = String(BigInt(Date.now()) * 1_000_000n);
  const otlp = JSON.stringify({
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: ns, body: { stringValue: 'one' } }] }] }],
  });
  const first = call('/v1/logs', 'application/json', otlp); // runs, held in the journal
  const second = call('/v1/logs', 'application/json', otlp); // waits its turn
  await until('two writes queued', async () => journal.calls === 1 && intake.queued === 1);
  const busyOtlp = await call('/v1/logs', 'application/json', otlp);
  assert.equal(busyOtlp.status, 503);
  assert.equal(busyOtlp.headers?.['retry-after'], '1');
  const busyBulk = await call('/_bulk', 'application/x-ndjson', '{"index":{}}\n{"message":"x"}\n');
  assert.equal(busyBulk.status, 429);
  assert.equal(busyBulk.headers?.['retry-after'], '1');
  const busyUpload = await call('/upload', 'application/vnd.fdo.journal', 'MESSAGE=x\n\n');
  assert.equal(busyUpload.status, 503);
  assert.equal(busyUpload.headers?.['retry-after'], '1');
  assert.equal(journal.calls, 1, 'nothing of a refused request reached the journal');
  journal.release();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  assert.equal(journal.written, 2);
});
