/**
 * @module The `syslog` output received by the real rsyslog (Debian's rsyslogd, run unprivileged with
 * its own configuration on free loopback ports): RFC 5424 octet-counted over TCP (imtcp) and RFC 3164
 * over UDP (imudp), written by omfile with a template. Fails, not skips, when rsyslogd is missing.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Options } from '../../../../src/config/options.js';
import { syslogOutput } from '../../../../src/pipeline/outputs/net/syslog.js';
import { freePort } from '../../../helpers/agent-e2e.js';
import { rec, signal, until } from './peers.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';

let dir: string;
let child: ChildProcess | undefined;
let tcpPort: number;
let udpPort: number;
let stderr = '';

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

before(async () => {
  assert.ok(existsSync(RSYSLOGD), `${RSYSLOGD} is missing: install Debian's rsyslog package`);
  dir = mkdtempSync(join(tmpdir(), 'kj-rsyslog-'));
  tcpPort = await freePort();
  udpPort = await freePort();
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      `input(type="imtcp" port="${tcpPort}" address="127.0.0.1")`,
      `input(type="imudp" port="${udpPort}" address="127.0.0.1")`,
      'template(name="t" type="string" string="%syslogtag%|%hostname%|%syslogfacility%|%syslogseverity%|%structured-data%|%msg%\\n")',
      `action(type="omfile" file="${join(dir, 'out.log')}" template="t")`,
      '',
    ].join('\n'),
  );
  child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await tcpOpen(tcpPort))) {
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`rsyslogd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function lines(): string[] {
  const file = join(dir, 'out.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(0, -1) : [];
}

const make = (o: Record<string, unknown>) =>
  syslogOutput('rs', new Options(o, ['outputs', 0]), { baseDir: dir });

test('rsyslog receives RFC 5424 over TCP, octet-counted, with structured data', async () => {
  const out = make({
    url: `tcp://127.0.0.1:${tcpPort}`,
    hostname: 'node-1',
    appName: 'kj-app',
    facility: 'local3',
  });
  await out.send(
    [
      rec('héllo wörld — 日本語', { attributes: { level: 'warn', note: 'a "q" \\ ]' } }),
      rec('multi\nline', {}, 1),
      rec('x'.repeat(3000), {}, 2),
    ],
    signal(),
  );
  await out.close();
  await until('3 lines from rsyslog', () => lines().length >= 3, 10_000);
  const got = lines();
  assert.deepEqual(got.slice(0, 2), [
    'kj-app|node-1|19|4|[kjournal@32473 level="warn" note="a \\"q\\" \\\\ \\]"]|héllo wörld — 日本語',
    'kj-app|node-1|19|6|-|multi#012line',
  ]);
  assert.equal(got[2], `kj-app|node-1|19|6|-|${'x'.repeat(3000)}`);
});

test('rsyslog receives RFC 3164 over UDP', async () => {
  const before = lines().length;
  const out = make({
    url: `udp://127.0.0.1:${udpPort}`,
    format: 'rfc3164',
    hostname: 'node-2',
    appName: 'legacy',
    facility: 'daemon',
  });
  await out.send(
    [rec('plain old syslog', { attributes: { level: 'error' } }), rec('second', {}, 1)],
    signal(),
  );
  await out.close();
  await until('2 more lines from rsyslog', () => lines().length >= before + 2, 10_000);
  assert.deepEqual(lines().slice(before), [
    'legacy:|node-2|3|3|-| plain old syslog',
    'legacy:|node-2|3|6|-| second',
  ]);
});
