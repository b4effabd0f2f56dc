/**
 * Syslog over TLS (`--syslog-tls`, RFC 5425) with the server's certificate: a sender without a
 * client certificate writes as `system:kjournal:syslog`, one with a certificate signed by
 * `--client-ca-file` as its CN, each authorized (ABAC here); a certificate of an unknown CA drops
 * the connection, logged, and nothing of it is stored.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { createAuth } from '../../../src/auth/index.js';
import type { RunningServer } from '../../../src/server/app.js';
import { makePki, type Pki } from '../../auth/pki.js';
import { abacPolicies } from '../../helpers/auth-e2e.js';
import { trustServer } from '../../helpers/server-process.js';
import { LOOPBACK, lines, startTestServer, until } from './helpers.js';

let pki: Pki;
let server: RunningServer;
let logs: string[];
let stop: () => Promise<void>;

before(async () => {
  pki = makePki();
  const tokens = join(pki.dir, 'tokens.csv');
  writeFileSync(tokens, 'admin-token,admin,1,system:masters\n');
  const policy = join(pki.dir, 'abac.jsonl');
  writeFileSync(
    policy,
    abacPolicies([
      { user: 'system:kjournal:syslog', resource: 'logs', namespace: '*', apiGroup: '*' },
      { user: 'alice', resource: 'logs', namespace: '*', apiGroup: '*' },
    ]),
  );
  const auth = createAuth({
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    clientCaFile: pki.ca.certFile,
    tokenAuthFile: tokens,
    policyFile: policy,
  });
  const t = await startTestServer({ auth, host: '127.0.0.1', receivers: { syslog: { tls: LOOPBACK } } });
  ({ server, logs, stop } = t);
  trustServer(server.url, pki.ca.cert, { authorization: 'Bearer admin-token' });
});

after(async () => {
  await stop();
  pki.cleanup();
});

function send(frames: string[], pair?: { cert: string; key: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect(
      {
        host: '127.0.0.1',
        port: server.receivers.syslogTls!.port,
        ca: pki.ca.cert,
        servername: 'localhost',
        ...pair,
      },
      () => {
        for (const m of frames) s.write(`${Buffer.byteLength(m)} ${m}`);
        resolve(s);
      },
    );
    s.once('error', reject);
  });
}

const frame = (host: string, msg: string) => `<14>1 ${new Date().toISOString()} ${host} app - - - ${msg}`;

test('TLS without a client certificate: written as system:kjournal:syslog', async () => {
  const s = await send([frame('tls-anon', 'over tls')]);
  await until('the line', async () => (await lines(server.url, '{node="tls-anon"}')).length === 1);
  assert.deepEqual(await lines(server.url, '{node="tls-anon"}'), ['over tls']);
  s.destroy();
});

test('TLS with a client certificate: written as its CN, authorized', async () => {
  const s = await send([frame('tls-alice', 'from alice')], pki.alice);
  await until('the line', async () => (await lines(server.url, '{node="tls-alice"}')).length === 1);
  s.destroy();
});

test('a certificate of an unknown CA: the connection is dropped, logged, nothing stored', async () => {
  const s = await send([frame('tls-mallory', 'from mallory')], pki.mallory);
  s.on('error', () => {});
  await until('the refusal logged', async () => logs.some((l) => /client certificate refused/.test(l)));
  assert.deepEqual(await lines(server.url, '{node="tls-mallory"}'), []);
  s.destroy();
});
