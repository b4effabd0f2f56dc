/**
 * The Elasticsearch bulk receiver with Debian's rsyslog as the peer: rsyslogd (run unprivileged in
 * the foreground with its own configuration) takes syslog lines on a loopback TCP port (imtcp) and
 * sends them with omelasticsearch (package rsyslog-elasticsearch) in bulk mode, with basic auth
 * whose password is a token of the server's --token-auth-file. Fails, not skips, when rsyslogd or
 * omelasticsearch is missing (.ci/run installs them).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../helpers/agent-e2e.js';
import {
  type HttpReply,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';

function omelasticsearchInstalled(): boolean {
  for (const dir of [
    '/usr/lib/x86_64-linux-gnu/rsyslog',
    '/usr/lib/aarch64-linux-gnu/rsyslog',
    '/usr/lib/rsyslog',
  ]) {
    if (existsSync(dir) && readdirSync(dir).includes('omelasticsearch.so')) return true;
  }
  return false;
}

async function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function sendLines(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(lines.map((l) => `${l}\n`).join('')));
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}

async function queryAs(url: string, token: string, query: string): Promise<string[]> {
  const q = new URLSearchParams({ query, limit: '100', since: '1h' });
  const r = await fetch(`${url}/loki/api/v1/query_range?${q}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const reply: HttpReply = { status: r.status, text: await r.text() } as HttpReply;
  assert.equal(reply.status, 200, reply.text);
  const body = JSON.parse(reply.text) as { data: { result: { values: [string, string][] }[] } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

describe('rsyslog omelasticsearch → the Elasticsearch bulk receiver', () => {
  let server: ServerProcess;
  let dir: string;
  let child: ChildProcess | undefined;
  let tcpPort: number;
  let output = '';

  before(async () => {
    assert.ok(existsSync(RSYSLOGD), `${RSYSLOGD} is missing: install Debian's rsyslog package`);
    assert.ok(omelasticsearchInstalled(), 'omelasticsearch is missing: install Debian rsyslog-elasticsearch');
    dir = mkdtempSync(join(tmpdir(), 'kj-rsyslog-es-'));
    writeFileSync(join(dir, 'tokens.csv'), 'rs-token,rsyslog,1\n');
    server = await startServerProcess({ args: ['--token-auth-file', join(dir, 'tokens.csv')] });
    const { port } = new URL(server.url);
    tcpPort = await freePort();
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}")`,
        'module(load="imtcp")',
        'module(load="omelasticsearch")',
        `input(type="imtcp" port="${tcpPort}" address="127.0.0.1")`,
        'template(name="es" type="list" option.jsonf="on") {',
        '  property(outname="message" name="msg" format="jsonf")',
        '  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
        '  property(outname="host" name="hostname" format="jsonf")',
        '  property(outname="program" name="programname" format="jsonf")',
        '}',
        `action(type="omelasticsearch" server="127.0.0.1" serverport="${port}" template="es"`,
        '  searchIndex="syslog-rs" bulkmode="on" uid="rsyslog" pwd="rs-token"',
        `  errorfile="${join(dir, 'es-errors.json')}" action.resumeRetryCount="-1")`,
        '',
      ].join('\n'),
    );
    child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const deadline = Date.now() + 10_000;
    while (!(await tcpOpen(tcpPort))) {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`rsyslogd did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('lines sent through rsyslog arrive, labelled with the index, with basic auth', async () => {
    const stamp = new Date().toISOString().slice(0, 19);
    await sendLines(tcpPort, [
      `<14>1 ${stamp}Z host1 billing 7 - - invoice 17 sent`,
      `<11>1 ${stamp}Z host1 billing 7 - - invoice 18 failed`,
    ]);
    const deadline = Date.now() + 15_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await queryAs(server.url, 'rs-token', '{index="syslog-rs"}');
      if (lines.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(
      lines.map((l) => l.trim()),
      ['invoice 17 sent', 'invoice 18 failed'],
      `rsyslogd said: ${output}`,
    );
    const byProgram = await queryAs(
      server.url,
      'rs-token',
      '{index="syslog-rs"} | program="billing" | host="host1"',
    );
    assert.equal(byProgram.length, 2);
  });
});
