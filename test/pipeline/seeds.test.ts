/**
 * The flows of seeds 003 and 004, end to end with real processes:
 * - 003 (Kata Containers with Fluentd): journal entries of the Kata components reach `kjournal serve`;
 *   a flow parses their logfmt MESSAGE into `kata_*` attributes and archives them to a file, while
 *   containerd's entries are stored as they are.
 * - 004 (container runtime logs through syslog): containers log to syslog; `kjournal agent` receives
 *   it over TCP, a flow drops debug messages and routes the rest to the server and to S3 (a real
 *   s3rver), as Fluent Bit does in the seed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import S3rver from 's3rver';
import { freePort, until } from '../helpers/agent-e2e.js';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function server(args: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess({ args });
  cleanup.push(async () => {
    await s.stop();
    await removeDir(s.dataDir);
  });
  return s;
}

const window = () => ({
  start: String(BigInt(Date.now() - 3_600_000) * 1_000_000n),
  end: String(BigInt(Date.now() + 60_000) * 1_000_000n),
  limit: '100',
});

/**
 * Entries with their structured metadata: without the categorize-labels header, Loki's answer
 * carries them as labels of the entry's stream.
 */
async function entries(
  url: string,
  query: string,
): Promise<{ line: string; meta: Record<string, string> }[]> {
  const r = await http(`${url}/loki/api/v1/query_range?${new URLSearchParams({ ...window(), query })}`);
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as {
    data: { result: { stream: Record<string, string>; values: [string, string][] }[] };
  };
  return body.data.result.flatMap((s) => s.values.map(([, line]) => ({ line, meta: s.stream })));
}

// Seed 003: the MESSAGE of a kata-runtime journal entry, and one of containerd.
const KATA_MESSAGE =
  'time="2020-02-21T10:31:27.810781647Z" level=info msg="release sandbox" arch=amd64 ' +
  'command=state container=7cdd31660d8705facdadeb8598d2c0bd008e8142c54e3b3069abd392c8d58997 ' +
  'name=kata-runtime pid=14314 sandbox=1c3e77cad66aa2b6d8cc846f818370f79cb0104c0b840f67d0f502fd6562b68c ' +
  'source=virtcontainers subsystem=sandbox';
const CONTAINERD_MESSAGE = 'time="2020-02-21T10:31:28Z" level=info msg="shim reaped" id=7cdd31660d87';

test('seed 003: Kata journal entries are parsed into kata_* attributes and archived; others kept as they are', async () => {
  const dir = await tempDir('kj-seed003-');
  const config = join(dir, 'pipeline.yaml');
  await writeFile(
    config,
    [
      'outputs:',
      '  - name: kata-archive',
      '    type: file',
      '    path: archive/kata-%Y-%m-%d.ndjson',
      '    batch: { maxWaitSeconds: 0.1 }',
      'flows:',
      '  # The Kata components, as the seed selects them by SYSLOG_IDENTIFIER.',
      '  - name: kata',
      '    match:',
      '      - select: { attributes: { syslog_identifier: [kata-runtime, kata-proxy, kata-shim] } }',
      '    filters:',
      '      - kata: {}',
      '      - record: { removeKeys: [kata_arch] }',
      '    outputs: [journal, kata-archive]',
      '  - name: the-rest',
      '    match:',
      '      - exclude: { attributes: { syslog_identifier: [kata-runtime, kata-proxy, kata-shim] } }',
      '      - select: {}',
      '    outputs: [journal]',
      '',
    ].join('\n'),
  );
  const check = spawnSync(process.execPath, [MAIN, 'config', 'check', config], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /: valid serve configuration: 0 settings, 1 output, 2 flows$/m);

  const s = await server(['--config', config]);
  const ts = String(BigInt(Date.now() - 10_000) * 1_000_000n);
  const r = await pushJson(s.url, {
    streams: [
      {
        stream: { kind: 'log', node: 'node-1', unit: 'kata' },
        values: [
          [ts, KATA_MESSAGE, { syslog_identifier: 'kata-runtime', systemd_unit: 'containerd.service' }],
        ],
      },
      {
        stream: { kind: 'log', node: 'node-1', unit: 'containerd' },
        values: [
          [ts, CONTAINERD_MESSAGE, { syslog_identifier: 'containerd', systemd_unit: 'containerd.service' }],
        ],
      },
    ],
  });
  assert.equal(r.status, 204, r.text);

  const kata = await entries(s.url, '{kind="log"} | kata_subsystem="sandbox"');
  assert.equal(kata.length, 1);
  assert.equal(kata[0]!.line, KATA_MESSAGE, 'the message is kept as it was');
  assert.equal(kata[0]!.meta.kata_level, 'info');
  assert.equal(kata[0]!.meta.kata_msg, 'release sandbox');
  assert.equal(kata[0]!.meta.kata_command, 'state');
  assert.equal(kata[0]!.meta.kata_source, 'virtcontainers');
  assert.equal(kata[0]!.meta.kata_arch, undefined, 'removed by the record filter');
  const rest = await entries(s.url, '{kind="log", unit="containerd"}');
  assert.equal(rest.length, 1);
  assert.equal(rest[0]!.meta.kata_level, undefined, 'containerd entries are not parsed');

  const day = new Date(Number(BigInt(ts) / 1_000_000n)).toISOString().slice(0, 10);
  const file = join(dir, 'archive', `kata-${day}.ndjson`);
  await until('the Kata entry archived', async () => {
    try {
      return (await readFile(file, 'utf8')).trim() !== '';
    } catch {
      return false;
    }
  });
  const archived = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { body: string; attributes: Record<string, string> });
  assert.equal(archived.length, 1);
  assert.equal(archived[0]!.body, KATA_MESSAGE);
  assert.equal(archived[0]!.attributes.kata_subsystem, 'sandbox');
});

test('seed 004: syslog through the agent, debug dropped, the rest to the server and to S3', async () => {
  const dir = await tempDir('kj-seed004-');
  const s3dir = await tempDir('kj-seed004-s3-');
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: s3dir,
    configureBuckets: [{ name: 'container-audit' }],
  });
  const s3port = (await s3.run()).port;
  cleanup.push(async () => {
    s3.httpServer?.closeAllConnections();
    await s3.close();
  });
  const s = await server();
  const syslogPort = await freePort();
  const config = join(dir, 'agent.yaml');
  await writeFile(
    config,
    [
      `server: ${s.url}`,
      `stateDir: ${join(dir, 'state')}`,
      'node: node-1',
      'batch: { maxWait: 50ms }',
      `syslog: { tcp: "127.0.0.1:${syslogPort}" }`,
      'outputs:',
      '  - name: archive',
      '    type: s3',
      `    endpoint: http://127.0.0.1:${s3port}`,
      '    bucket: container-audit',
      '    forcePathStyle: true',
      '    accessKeyId: S3RVER',
      '    secretAccessKey: S3RVER',
      '    prefix: runtime/',
      '    batch: { maxWaitSeconds: 0.1 }',
      'flows:',
      '  - name: container-runtime',
      '    match:',
      '      - select: { kind: [log] }',
      '    filters:',
      '      - grep: { exclude: [{ key: severity, pattern: "^debug$" }] }',
      '    outputs: [journal, archive]',
      '',
    ].join('\n'),
  );
  const agent = spawn(process.execPath, [MAIN, 'agent', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  agent.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => agent.once('exit', (c) => r(c)));
  cleanup.push(async () => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
  });
  await until(`the agent listens (${stderr})`, async () => stderr.includes('shipping'));

  // What the seed's containers do with the syslog log driver: one message per event, to the node.
  const log = (priority: string, tag: string, text: string) => {
    const r = spawnSync(
      'logger',
      [
        '--server',
        '127.0.0.1',
        '--port',
        String(syslogPort),
        '--tcp',
        '--octet-count',
        '--rfc5424',
        '-p',
        priority,
        '-t',
        tag,
        text,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  };
  log('user.notice', 'web-1', 'GET /login 200 user=alice');
  log('user.debug', 'web-1', 'cache miss for /login');
  log('authpriv.warning', 'sshd', 'Failed password for root from 10.0.0.9');

  await until('two messages on the server', async () => (await entries(s.url, '{kind="log"}')).length >= 2);
  const stored = (await entries(s.url, '{kind="log"}')).map((e) => e.line).sort();
  assert.deepEqual(stored, ['Failed password for root from 10.0.0.9', 'GET /login 200 user=alice']);

  const bodies = async (): Promise<string[]> => {
    const list = await fetch(`http://127.0.0.1:${s3port}/container-audit?list-type=2&prefix=runtime/`);
    const keys = [...(await list.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
    const out: string[] = [];
    for (const key of keys) {
      const obj = await fetch(`http://127.0.0.1:${s3port}/container-audit/${key}`);
      const text = gunzipSync(Buffer.from(await obj.arrayBuffer())).toString('utf8');
      for (const line of text.trim().split('\n')) out.push((JSON.parse(line) as { body: string }).body);
    }
    return out.sort();
  };
  await until('both messages in S3', async () => (await bodies()).length >= 2);
  assert.deepEqual(await bodies(), stored, 'the same messages archived, the debug one in neither');

  agent.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});
