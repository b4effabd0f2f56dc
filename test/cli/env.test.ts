/**
 * The connection flags' environment variables: a flag wins over KJOURNAL_*, which wins over logcli's
 * LOKI_*; against the real server (server address and tenant) and a fake one (the credentials it
 * is sent).
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveConnection } from '../../src/client/connection.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { type FakeLoki, ok, runCli, startFakeLoki } from './fake-loki.js';

/** Nothing listens here: a request sent there fails. */
const NOWHERE = 'http://127.0.0.1:9';
const CLEAN: NodeJS.ProcessEnv = {
  KJOURNAL_SERVER: undefined,
  KJOURNAL_TOKEN: undefined,
  KJOURNAL_TOKEN_FILE: undefined,
  KJOURNAL_TENANT: undefined,
  LOKI_ADDR: undefined,
  LOKI_BEARER_TOKEN: undefined,
  LOKI_BEARER_TOKEN_FILE: undefined,
  LOKI_ORG_ID: undefined,
  KJOURNAL_USERNAME: undefined,
  KJOURNAL_PASSWORD: undefined,
  LOKI_USERNAME: undefined,
  LOKI_PASSWORD: undefined,
  KJOURNAL_CLIENT_CERTIFICATE: undefined,
  KJOURNAL_CLIENT_KEY: undefined,
  LOKI_CLIENT_CERT_PATH: undefined,
  LOKI_CLIENT_KEY_PATH: undefined,
};

let server: ServerProcess;
let fake: FakeLoki;
let dir: string;
const now = BigInt(Date.now()) * 1_000_000n;

before(async () => {
  server = await startServerProcess();
  for (const tenant of ['alpha', 'beta']) {
    const r = await pushJson(
      server.url,
      { streams: [{ stream: { app: 'envtest' }, values: [[`${now}`, `line of ${tenant}`]] }] },
      { 'x-scope-orgid': tenant },
    );
    assert.equal(r.status, 204, r.text);
  }
  fake = await startFakeLoki({ '/loki/api/v1/labels': () => ok(['app']) });
  dir = await mkdtemp(join(tmpdir(), 'kj-env-'));
  await writeFile(join(dir, 'kj-token'), 'from-kjournal-file\n');
  await writeFile(join(dir, 'loki-token'), 'from-loki-file\n');
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
  await fake.close();
  await removeDir(dir);
});

const query = (env: NodeJS.ProcessEnv, ...flags: string[]) =>
  runCli(['query', '{app="envtest"}', '-q', '-o', 'raw', '--since', '1h', ...flags], {
    env: { ...CLEAN, ...env },
  });

test('env: the server from LOKI_ADDR, KJOURNAL_SERVER over it, --server over both', async () => {
  let r = await query({ LOKI_ADDR: server.url, LOKI_ORG_ID: 'alpha' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'line of alpha\n');

  r = await query({ KJOURNAL_SERVER: server.url, LOKI_ADDR: NOWHERE, LOKI_ORG_ID: 'alpha' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'line of alpha\n');

  r = await query(
    { KJOURNAL_SERVER: NOWHERE, LOKI_ADDR: NOWHERE, LOKI_ORG_ID: 'alpha' },
    '--server',
    server.url,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'line of alpha\n');

  // And the variable is used, not ignored: only a wrong one fails.
  r = await query({ KJOURNAL_SERVER: NOWHERE, LOKI_ADDR: server.url, LOKI_ORG_ID: 'alpha' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /127\.0\.0\.1:9/);
});

test('env: the tenant from LOKI_ORG_ID, KJOURNAL_TENANT over it, --tenant over both', async () => {
  const env = { KJOURNAL_SERVER: server.url };
  let r = await query({ ...env, LOKI_ORG_ID: 'beta' });
  assert.equal(r.stdout, 'line of beta\n', r.stderr);
  r = await query({ ...env, KJOURNAL_TENANT: 'alpha', LOKI_ORG_ID: 'beta' });
  assert.equal(r.stdout, 'line of alpha\n', r.stderr);
  r = await query({ ...env, KJOURNAL_TENANT: 'alpha', LOKI_ORG_ID: 'alpha' }, '--tenant', 'beta');
  assert.equal(r.stdout, 'line of beta\n', r.stderr);
});

test('env: the bearer token: flag > KJOURNAL_TOKEN(_FILE) > LOKI_BEARER_TOKEN(_FILE)', async () => {
  const sent = async (env: NodeJS.ProcessEnv, ...flags: string[]): Promise<string | undefined> => {
    const r = await runCli(['labels', '-q', ...flags], {
      env: { ...CLEAN, KJOURNAL_SERVER: fake.url, ...env },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app\n');
    return fake.headers.at(-1)!.authorization;
  };
  assert.equal(await sent({ LOKI_BEARER_TOKEN: 'loki' }), 'Bearer loki');
  assert.equal(await sent({ LOKI_BEARER_TOKEN_FILE: join(dir, 'loki-token') }), 'Bearer from-loki-file');
  assert.equal(
    await sent({
      KJOURNAL_TOKEN: 'kj',
      LOKI_BEARER_TOKEN: 'loki',
      LOKI_BEARER_TOKEN_FILE: join(dir, 'loki-token'),
    }),
    'Bearer kj',
  );
  assert.equal(
    await sent({ KJOURNAL_TOKEN_FILE: join(dir, 'kj-token'), LOKI_BEARER_TOKEN: 'loki' }),
    'Bearer from-kjournal-file',
  );
  assert.equal(await sent({ KJOURNAL_TOKEN_FILE: join(dir, 'kj-token') }, '--token', 'flag'), 'Bearer flag');
  assert.equal(await sent({}), undefined);
  // Basic auth, logcli's LOKI_USERNAME/LOKI_PASSWORD; a token of a better rank wins over it.
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  assert.equal(await sent({ LOKI_USERNAME: 'lu', LOKI_PASSWORD: 'lp' }), basic('lu', 'lp'));
  assert.equal(
    await sent({
      KJOURNAL_USERNAME: 'ku',
      KJOURNAL_PASSWORD: 'kp',
      LOKI_USERNAME: 'lu',
      LOKI_PASSWORD: 'lp',
    }),
    basic('ku', 'kp'),
  );
  assert.equal(await sent({ KJOURNAL_TOKEN: 'kj', LOKI_USERNAME: 'lu' }), 'Bearer kj');
  assert.equal(
    await sent({ LOKI_USERNAME: 'lu', LOKI_PASSWORD: 'lp' }, '--username', 'fu', '--password', 'fp'),
    basic('fu', 'fp'),
  );
});

test('env: the client certificate and key are read from KJOURNAL_CLIENT_* before LOKI_CLIENT_*_PATH', async () => {
  const env = { ...CLEAN, KJOURNAL_SERVER: fake.url };
  let r = await runCli(['labels', '-q'], {
    env: {
      ...env,
      LOKI_CLIENT_CERT_PATH: join(dir, 'loki.crt'),
      LOKI_CLIENT_KEY_PATH: join(dir, 'loki.key'),
    },
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read --client-certificate .*loki\.crt: no such file/);
  r = await runCli(['labels', '-q'], {
    env: {
      ...env,
      KJOURNAL_CLIENT_CERTIFICATE: join(dir, 'kj.crt'),
      KJOURNAL_CLIENT_KEY: join(dir, 'kj.key'),
      LOKI_CLIENT_CERT_PATH: join(dir, 'loki.crt'),
    },
  });
  assert.match(r.stderr, /cannot read --client-certificate .*kj\.crt: no such file/);
  r = await runCli(
    ['labels', '-q', '--client-certificate', join(dir, 'flag.crt'), '--client-key', join(dir, 'flag.key')],
    {
      env: { ...env, KJOURNAL_CLIENT_CERTIFICATE: join(dir, 'kj.crt') },
    },
  );
  assert.match(r.stderr, /cannot read --client-certificate .*flag\.crt: no such file/);
});

test('env: a boolean variable that is not one is refused; --help names the variables', async () => {
  let r = await runCli(['labels', '-q'], {
    env: { ...CLEAN, KJOURNAL_SERVER: fake.url, LOKI_TLS_SKIP_VERIFY: 'maybe' },
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LOKI_TLS_SKIP_VERIFY="maybe" is not a boolean/);
  r = await runCli(['query', '--help']);
  const help = r.stdout.replace(/\s+/g, ' ');
  for (const name of [
    'KJOURNAL_SERVER, LOKI_ADDR',
    'KJOURNAL_TOKEN, LOKI_BEARER_TOKEN',
    'KJOURNAL_TENANT, LOKI_ORG_ID',
  ]) {
    assert.ok(help.includes(name), name);
  }
});

test('env: resolveConnection reads the PEM files, CA and TLS choice the variables name', async () => {
  const f = (name: string, text: string) => {
    const p = join(dir, name);
    return writeFile(p, text).then(() => p);
  };
  const env = {
    KJOURNAL_SERVER: 'https://kj.example:3100',
    LOKI_CLIENT_CERT_PATH: await f('l.crt', 'LOKI CERT'),
    LOKI_CLIENT_KEY_PATH: await f('l.key', 'LOKI KEY'),
    LOKI_CA_CERT_PATH: await f('l-ca.pem', 'LOKI CA'),
    KUBECONFIG: join(dir, 'no-such-kubeconfig'),
  };
  let c = await resolveConnection({}, env);
  assert.equal(c.server.href, 'https://kj.example:3100/');
  assert.equal(
    c.source,
    'flags and KJOURNAL_SERVER, LOKI_CLIENT_CERT_PATH, LOKI_CLIENT_KEY_PATH, LOKI_CA_CERT_PATH',
  );
  assert.deepEqual(
    [c.cert?.toString(), c.key?.toString(), c.ca?.toString()],
    ['LOKI CERT', 'LOKI KEY', 'LOKI CA'],
  );
  assert.equal(c.insecureSkipTlsVerify, false);

  c = await resolveConnection(
    {},
    {
      ...env,
      KJOURNAL_CLIENT_CERTIFICATE: await f('k.crt', 'KJ CERT'),
      KJOURNAL_CLIENT_KEY: await f('k.key', 'KJ KEY'),
      KJOURNAL_CERTIFICATE_AUTHORITY: await f('k-ca.pem', 'KJ CA'),
    },
  );
  assert.deepEqual([c.cert?.toString(), c.key?.toString(), c.ca?.toString()], ['KJ CERT', 'KJ KEY', 'KJ CA']);

  // LOKI_TLS_SKIP_VERIFY=true: no CA (the pair is refused on the command line, so never combined).
  c = await resolveConnection({}, { ...env, LOKI_TLS_SKIP_VERIFY: 'true' });
  assert.equal(c.insecureSkipTlsVerify, true);
  assert.equal(c.ca, undefined);
  c = await resolveConnection(
    { insecureSkipTlsVerify: true },
    { ...env, KJOURNAL_INSECURE_SKIP_TLS_VERIFY: 'false' },
  );
  assert.equal(c.insecureSkipTlsVerify, true);
});
