/**
 * The server's syslog listeners (`--syslog-tcp`, `--syslog-udp`) with their real peer: Debian's
 * rsyslogd, run unprivileged on loopback, taking messages on UDP (sent by util-linux `logger`) and
 * forwarding them with omfwd over TCP with octet counting (RFC 6587), as a network's relay would.
 * Fails, not skips, when rsyslogd is missing. Bad framing and the UDP listener by hand.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunningServer } from '../../../src/server/app.js';
import { LOOPBACK, lines, received, startTestServer, streams, until } from './helpers.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const run = promisify(execFile);

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('syslog listeners', () => {
  let stop: () => Promise<void>;
  let server: RunningServer;
  let logs: string[];
  let dir: string;
  let rsyslog: ChildProcess | undefined;
  let rsyslogUdp: number;
  let rsyslogOut = '';

  before(async () => {
    assert.ok(existsSync(RSYSLOGD), `${RSYSLOGD} is missing: install Debian's rsyslog package`);
    const t = await startTestServer({
      receivers: { syslog: { tcp: LOOPBACK, udp: LOOPBACK, tenant: 'net' } },
    });
    ({ server, logs, stop } = t);
    dir = mkdtempSync(join(tmpdir(), 'kj-rsyslog-fwd-'));
    rsyslogUdp = await freeUdpPort();
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}")`,
        'module(load="imudp")',
        `input(type="imudp" port="${rsyslogUdp}" address="127.0.0.1")`,
        `action(type="omfwd" target="127.0.0.1" port="${server.receivers.syslogTcp!.port}" protocol="tcp"`,
        '       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")',
        '',
      ].join('\n'),
    );
    rsyslog = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rsyslog.stdout?.on('data', (d: Buffer) => (rsyslogOut += d.toString()));
    rsyslog.stderr?.on('data', (d: Buffer) => (rsyslogOut += d.toString()));
  });

  after(async () => {
    if (rsyslog && rsyslog.exitCode === null) {
      const exited = new Promise((r) => rsyslog!.once('exit', r));
      rsyslog.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await stop();
  });

  test('rsyslog forwards over TCP with octet counting; the lines, host and metadata are stored', async () => {
    const send = (msg: string) =>
      run('logger', [
        '-n',
        '127.0.0.1',
        '-P',
        String(rsyslogUdp),
        '-d',
        '--rfc5424',
        '-t',
        'shopd',
        '-p',
        'local3.warning',
        msg,
      ]);
    // rsyslogd takes a moment to bind: resend until the first line is through.
    await until(
      'the first line through rsyslog',
      async () => {
        await send('hello through rsyslog');
        return (await lines(server.url, '{source="syslog"}', { 'X-Scope-OrgID': 'net' })).length > 0;
      },
      15_000,
    ).catch((err) => assert.fail(`${(err as Error).message}; rsyslogd said: ${rsyslogOut}`));
    for (let i = 0; i < 50; i++) await send(`line ${i} with spaces\nand a newline`);
    await until('50 more lines', async () => {
      const got = await lines(server.url, '{source="syslog"} |= "line "', { 'X-Scope-OrgID': 'net' });
      return got.length >= 50;
    });
    const got = await lines(
      server.url,
      '{source="syslog"} | appname="shopd" | severity="warning" | facility="local3" |= "line 7 "',
      {
        'X-Scope-OrgID': 'net',
      },
    );
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^line 7 with spaces/);
    // In the listener's tenant only.
    assert.deepEqual(await lines(server.url, '{source="syslog"}'), []);
    assert.ok((await received(server.url, 'syslog', 'accepted')) >= 51);
  });

  test('UDP datagrams and a bad octet count: the bad frame is refused and counted, the connection goes on', async () => {
    const udp = createSocket('udp4');
    const port = server.receivers.syslogUdp!.port;
    udp.send(`<13>1 ${new Date().toISOString()} udphost app - - - by udp`, port, '127.0.0.1');
    // Out of the time window (the server's limits): refused, counted, logged; the rest goes on.
    udp.send('<13>1 2001-01-01T00:00:00Z udphost app - - - too old', port, '127.0.0.1');
    await until(
      'the datagram',
      async () => (await lines(server.url, '{node="udphost"}', { 'X-Scope-OrgID': 'net' })).length === 1,
    );
    assert.deepEqual(await lines(server.url, '{node="udphost"}', { 'X-Scope-OrgID': 'net' }), ['by udp']);
    await until('the old one logged', async () =>
      logs.some((l) => /has timestamp too old: 2001-01-01/.test(l)),
    );
    udp.close();
    const refusedBefore = await received(server.url, 'syslog', 'refused');
    const s = connect(server.receivers.syslogTcp!.port, '127.0.0.1');
    const now = new Date().toISOString();
    const good = `<14>1 ${now} tcphost app - - - after the bad frame`;
    s.write(`5 <13>1 too short\n${Buffer.byteLength(good)} ${good}`);
    await until('the good frame', async () =>
      (await lines(server.url, '{node="tcphost"}', { 'X-Scope-OrgID': 'net' })).includes(
        'after the bad frame',
      ),
    );
    assert.ok((await received(server.url, 'syslog', 'refused')) > refusedBefore);
    assert.ok(
      logs.some((l) => /bad_frame/.test(l)),
      logs.join('\n'),
    );
    s.destroy();
    const labels = await streams(server.url, '{node="tcphost"}');
    assert.equal(labels.length, 0); // default tenant sees nothing of tenant "net"
  });
});
