/**
 * GELF (UDP chunked and compressed, TCP NUL-delimited, HTTP) with its real peer gelf-pro from npm,
 * and Splunk HEC with splunk-logging from npm; HEC's raw endpoint, ack channel, health and errors,
 * and GELF over HTTP by hand (neither library speaks them). With authentication on: HEC's
 * `Splunk <token>` through the token file, `create` needed, the forward listener's shared key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createAuth } from '../../../src/auth/index.js';
import type { RunningServer } from '../../../src/server/app.js';
import { abacPolicies } from '../../helpers/auth-e2e.js';
import { http } from '../../helpers/server-process.js';
import { LOOPBACK, lines, received, startTestServer, streams, until } from './helpers.js';

const require = createRequire(import.meta.url);
interface GelfPro {
  setConfig(c: Record<string, unknown>): void;
  info(msg: string, extra: Record<string, unknown>, cb: (err: Error | null) => void): void;
}
/** One gelf-pro logger per adapter (the module is a singleton; each gets its own config). */
function gelfLogger(adapterName: 'udp' | 'tcp', port: number): GelfPro {
  const base = require('gelf-pro') as GelfPro;
  const log = Object.create(base) as GelfPro & { adapter?: unknown };
  log.adapter = undefined;
  log.setConfig({
    adapterName,
    adapterOptions: { host: '127.0.0.1', port },
    fields: { host: `gelf-${adapterName}` },
  });
  return log;
}
const gelfInfo = (log: GelfPro, msg: string, extra: Record<string, unknown>) =>
  new Promise<void>((resolve, reject) => log.info(msg, extra, (err) => (err ? reject(err) : resolve())));

// biome-ignore lint/suspicious/noExplicitAny: splunk-logging has no types
const SplunkLogger = (require('splunk-logging') as any).Logger;

describe('GELF and Splunk HEC receivers, no auth', () => {
  let stop: () => Promise<void>;
  let server: RunningServer;
  let logs: string[];
  before(async () => {
    const t = await startTestServer({ receivers: { gelf: { udp: LOOPBACK, tcp: LOOPBACK } } });
    ({ server, stop, logs } = t);
  });
  after(() => stop());

  test('gelf-pro over UDP: compressed, and chunked when long; extra fields are metadata', async () => {
    const log = gelfLogger('udp', server.receivers.gelfUdp!.port);
    await gelfInfo(log, 'short over udp', { request: 'r-1' });
    const long = `long ${randomBytes(6000).toString('hex')}`; // deflated past one datagram: chunked
    await gelfInfo(log, long, {});
    await until('both UDP messages', async () => (await lines(server.url, '{node="gelf-udp"}')).length === 2);
    assert.deepEqual(await lines(server.url, '{node="gelf-udp"} | request="r-1" | severity="info"'), [
      'short over udp',
    ]);
    assert.deepEqual(await lines(server.url, '{node="gelf-udp"} |= "long "'), [long]);
    const [s] = await streams(server.url, '{node="gelf-udp"}');
    assert.equal(s?.source, 'gelf');
  });

  test('gelf-pro over TCP, NUL-delimited', async () => {
    const log = gelfLogger('tcp', server.receivers.gelfTcp!.port);
    for (let i = 0; i < 5; i++) await gelfInfo(log, `tcp line ${i}`, { n: i });
    await until('5 TCP messages', async () => (await lines(server.url, '{node="gelf-tcp"}')).length === 5);
    assert.deepEqual(await lines(server.url, '{node="gelf-tcp"} | n="3"'), ['tcp line 3']);
  });

  test('GELF over TCP: a message over --gelf-max-message-size is skipped, counted and logged; the next is stored', async () => {
    const refusedBefore = await received(server.url, 'gelf', 'refused');
    const sock = connect(server.receivers.gelfTcp!.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const huge = JSON.stringify({ version: '1.1', host: 'gelf-big', short_message: 'x'.repeat(1_100_000) });
    const next = JSON.stringify({ version: '1.1', host: 'gelf-big', short_message: 'after the big one' });
    sock.write(`${huge}\0${next}\0`);
    await until('the next message', async () => (await lines(server.url, '{node="gelf-big"}')).length === 1);
    assert.deepEqual(await lines(server.url, '{node="gelf-big"}'), ['after the big one']);
    assert.equal(await received(server.url, 'gelf', 'refused'), refusedBefore + 1);
    assert.ok(
      logs.some((l) => /longer than the limit of 1048576 bytes/.test(l)),
      logs.join('\n'),
    );
    sock.destroy();
  });

  test('POST /gelf (gzip): 202 once stored; a malformed message is a 400 with the reason, nothing stored', async () => {
    const msg = {
      version: '1.1',
      host: 'gelf-http',
      short_message: 'over http',
      _app: 'web',
      timestamp: Date.now() / 1000,
    };
    const ok = await http(`${server.url}/gelf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(msg)) as unknown as string,
    });
    assert.equal(ok.status, 202, ok.text);
    assert.deepEqual(await lines(server.url, '{node="gelf-http"} | app="web"'), ['over http']);
    const refusedBefore = await received(server.url, 'gelf', 'refused');
    const bad = await http(`${server.url}/gelf`, {
      method: 'POST',
      body: JSON.stringify({ version: '1.1', host: 'gelf-http', short_message: '' }),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /short_message/);
    assert.equal((await lines(server.url, '{node="gelf-http"}')).length, 1);
    assert.equal(await received(server.url, 'gelf', 'refused'), refusedBefore + 1);
  });

  test('splunk-logging sends events to /services/collector/event/1.0; they are stored', async () => {
    const logger = new SplunkLogger({ token: 'any', url: server.url, maxBatchCount: 1 });
    logger.error = (err: Error) => assert.fail(`splunk-logging: ${err.message}`);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        logger.send(
          {
            message: { text: `hec event ${i}` },
            severity: 'warn',
            metadata: { host: 'hec-host', index: 'main', sourcetype: 'app' },
          },
          (err: Error | null, _resp: unknown, body: { code?: number }) =>
            err ? reject(err) : body?.code === 0 ? resolve() : reject(new Error(JSON.stringify(body))),
        ),
      );
    }
    const got = await lines(server.url, '{source="splunk", index="main", sourcetype="app", node="hec-host"}');
    assert.equal(got.length, 3);
    assert.deepEqual(JSON.parse(got[1]!), { message: { text: 'hec event 1' }, severity: 'warn' });
    assert.equal(await received(server.url, 'splunk_hec', 'accepted'), 3);
  });

  test('HEC raw, ack channel, health, and errors in HEC form with nothing stored', async () => {
    const channel = '11111111-2222-3333-4444-555555555555';
    const raw = await http(
      `${server.url}/services/collector/raw?channel=${channel}&sourcetype=raw&host=raw-host`,
      {
        method: 'POST',
        body: 'raw one\nraw two\n',
      },
    );
    assert.equal(raw.status, 200, raw.text);
    assert.deepEqual(JSON.parse(raw.text), { text: 'Success', code: 0, ackId: 0 });
    assert.deepEqual(await lines(server.url, '{sourcetype="raw"}'), ['raw one', 'raw two']);
    const acks = await http(`${server.url}/services/collector/ack?channel=${channel}`, {
      method: 'POST',
      body: JSON.stringify({ acks: [0, 1] }),
    });
    assert.deepEqual(JSON.parse(acks.text), { acks: { 0: true, 1: false } });
    const health = await http(`${server.url}/services/collector/health`);
    assert.deepEqual(JSON.parse(health.text), { text: 'HEC is healthy', code: 17 });
    const bad = await http(`${server.url}/services/collector/event`, {
      method: 'POST',
      body: '{"event":"fine","sourcetype":"bad"}{"sourcetype":"bad","host":"x"}',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.text), {
      text: 'Event field is required',
      code: 12,
      'invalid-event-number': 1,
    });
    const junk = await http(`${server.url}/services/collector/event`, {
      method: 'POST',
      body: '{"event": "x"',
    });
    assert.equal(junk.status, 400);
    assert.equal(JSON.parse(junk.text).code, 6);
    assert.deepEqual(await lines(server.url, '{sourcetype="bad"}'), []);
  });
});

describe('receivers with authentication on', () => {
  let dir: string;
  let stop: (() => Promise<void>) | undefined;
  let server: RunningServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-recv-auth-'));
    await writeFile(join(dir, 'tokens.csv'), 'writer-token,writer,1\nreader-token,reader,2\n');
    await writeFile(
      join(dir, 'abac.jsonl'),
      abacPolicies([
        { user: 'writer', resource: '*', namespace: '*', apiGroup: '*' },
        { user: 'reader', resource: '*', namespace: '*', apiGroup: '*', readonly: true },
      ]),
    );
  });
  after(async () => {
    await stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  test('the forward listener needs a shared key when authentication is on', async () => {
    const auth = createAuth({ tokenAuthFile: join(dir, 'tokens.csv'), policyFile: join(dir, 'abac.jsonl') });
    await assert.rejects(
      startTestServer({ auth, receivers: { forward: { listen: LOOPBACK } } }),
      /--forward-listen needs --forward-shared-key-file/,
    );
  });

  test('HEC: `Splunk <token>` from the token file; a wrong token is 401, a reader 403; nothing stored', async () => {
    const auth = createAuth({ tokenAuthFile: join(dir, 'tokens.csv'), policyFile: join(dir, 'abac.jsonl') });
    const t = await startTestServer({ auth });
    server = t.server;
    stop = t.stop;
    const post = (token: string, body: string) =>
      http(`${server.url}/services/collector/event`, {
        method: 'POST',
        headers: { authorization: `Splunk ${token}` },
        body,
      });
    const ok = await post('writer-token', '{"event":"authorized","sourcetype":"auth"}');
    assert.equal(ok.status, 200, ok.text);
    const wrong = await post('nope', '{"event":"wrong token","sourcetype":"auth"}');
    assert.equal(wrong.status, 401);
    assert.deepEqual(JSON.parse(wrong.text), { text: 'Invalid token', code: 4 });
    const reader = await post('reader-token', '{"event":"reader","sourcetype":"auth"}');
    assert.equal(reader.status, 403, reader.text);
    assert.equal(JSON.parse(reader.text).code, 4);
    const got = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{sourcetype="auth"}', since: '1h' })}`,
      { headers: { authorization: 'Bearer writer-token' } },
    );
    const values = (
      JSON.parse(got.text) as { data: { result: { values: [string, string][] }[] } }
    ).data.result.flatMap((s) => s.values.map((v) => v[1]));
    assert.deepEqual(values, ['authorized']);
  });
});
