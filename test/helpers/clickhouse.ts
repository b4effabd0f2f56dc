/**
 * @module Starts a private clickhouse-server (Debian's 18.16 package, /usr/sbin/clickhouse-server)
 * in the foreground on free loopback ports, with a generated config.xml and users.xml in a temp
 * dir, for the ClickHouse store tests (issue 16). See /work/shared/notes/clickhouse-18.16.md for
 * what that version accepts: `<yandex>` as the root element, a `<quota>` for every user (else
 * "Not found: users.default.quota"), and ZSTD for parts only when `<compression>` says so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLICKHOUSE_SERVER = '/usr/sbin/clickhouse-server';

export interface ClickHouseProcess {
  /** The HTTP interface, e.g. http://127.0.0.1:PORT (user `default`, no password). */
  readonly url: string;
  readonly dir: string;
  readonly child: ChildProcess;
  /** Kills the server, waits for it to exit and removes its directory. */
  stop(): Promise<void>;
}

/** A free loopback port: bound on port 0, then released (the usual small race is accepted). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configXml(dir: string, ports: { http: number; tcp: number; interserver: number }): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${dir}/log/clickhouse-server.log</log>
    <errorlog>${dir}/log/clickhouse-server.err.log</errorlog>
    <size>10M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_connections>256</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <timezone>UTC</timezone>
  <compression>
    <case>
      <method>zstd</method>
    </case>
  </compression>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;

/** Starts clickhouse-server and resolves once `GET /ping` answers `Ok.` (or rejects after timeoutMs). */
export async function startClickHouse(opts: { timeoutMs?: number } = {}): Promise<ClickHouseProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-clickhouse-'));
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) {
    await mkdir(join(dir, sub));
  }
  const ports = { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
  await writeFile(join(dir, 'config.xml'), configXml(dir, ports));
  await writeFile(join(dir, 'users.xml'), USERS_XML);
  const child = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const url = `http://127.0.0.1:${ports.http}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && !spawnError) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`clickhouse-server exited before answering /ping: ${spawnError?.message ?? err}`);
    }
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.ok && (await res.text()).trim() === 'Ok.') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`clickhouse-server did not answer /ping within the timeout: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dir, child, stop };
}
