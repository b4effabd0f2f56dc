/**
 * @module Starts private clickhouse-servers (Debian's 18.16 package, /usr/sbin/clickhouse-server)
 * in the foreground on free loopback ports, with a generated config.xml and users.xml in a temp
 * dir, for the ClickHouse store tests (issue 16): one node (`startClickHouse`), which can be
 * stopped and started again on the same data and ports (the fault tests' "ClickHouse goes away
 * mid-ingest"), or a two-shard cluster (`startClickHouseCluster`) with Debian's ZooKeeper when it
 * is installed. See /work/shared/notes/clickhouse-18.16.md for what that version accepts: `<yandex>`
 * as the root element, a `<quota>` for every user (else "Not found: users.default.quota"), ZSTD for
 * parts only when `<compression>` says so, and ZooKeeper for `ON CLUSTER` DDL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const CLICKHOUSE_SERVER = '/usr/sbin/clickhouse-server';
/** Debian's `zookeeper` package: the server's jar (its manifest names the jars it needs). */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const JAVA = '/usr/bin/java';

export interface ClickHouseProcess {
  /** The HTTP interface, e.g. http://127.0.0.1:PORT (user `default`, no password). */
  readonly url: string;
  readonly dir: string;
  /** The native protocol port (what `remote_servers` names). */
  readonly tcpPort: number;
  /** The running server process (a new one after `start()`). */
  readonly child: ChildProcess;
  /** Kills the server, waits for it to exit and removes its directory. */
  stop(): Promise<void>;
  /**
   * Kills the server (SIGKILL, as a crash or a lost node) and waits for it to exit; its data,
   * config and ports stay, for `start()`. Nothing happens when it is not running.
   */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and ports; resolves once `/ping` answers. */
  start(): Promise<void>;
  /** `kill()` then `start()`. */
  restart(): Promise<void>;
}

/** A free loopback port: bound on port 0, then released (the usual small race is accepted). */
export async function freePort(): Promise<number> {
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

interface Ports {
  readonly http: number;
  readonly tcp: number;
  readonly interserver: number;
}

const ZSTD_XML = `  <compression>
    <case>
      <method>zstd</method>
    </case>
  </compression>
`;

function configXml(dir: string, ports: Ports, extra = ''): string {
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
${extra}</yandex>
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

/**
 * Writes a server's directory and config and starts it. `extra` is XML inserted into config.xml
 * (the cluster's remote_servers, macros, zookeeper).
 */
async function launch(
  dir: string,
  ports: Ports,
  extra: string,
  timeoutMs: number,
  files: { readonly configD?: readonly string[]; readonly usersD?: readonly string[] } = {},
): Promise<ClickHouseProcess> {
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas', 'config.d', 'users.d']) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  // ClickHouse merges config.d/*.xml into config.xml and users.d/*.xml into users.xml.
  for (const f of files.configD ?? []) await copyFile(f, join(dir, 'config.d', basename(f)));
  for (const f of files.usersD ?? []) await copyFile(f, join(dir, 'users.d', basename(f)));
  await writeFile(join(dir, 'config.xml'), configXml(dir, ports, extra));
  await writeFile(join(dir, 'users.xml'), USERS_XML);
  const url = `http://127.0.0.1:${ports.http}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  /** Children stopped on purpose: any other exit is written to stderr, with the server's error log. */
  const killed = new WeakSet<ChildProcess>();
  const kill = async (): Promise<void> => {
    if (running()) {
      killed.add(child!);
      child!.kill('SIGKILL');
      await exited;
    }
  };
  const start = async (): Promise<void> => {
    if (running()) throw new Error('clickhouse-server is already running');
    const c = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = c;
    let err = '';
    c.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-8192);
    });
    let spawnError: Error | undefined;
    exited = new Promise<void>((resolve) => {
      c.once('exit', (code, signal) => {
        if (!killed.has(c)) {
          let log = '';
          try {
            log = readFileSync(join(dir, 'log', 'clickhouse-server.err.log'), 'utf8').slice(-3000);
          } catch {
            // no error log
          }
          console.error(
            `clickhouse-server at ${url} exited on its own (code ${code}, signal ${signal}): ${err.slice(-2000)}\n${log}`,
          );
        }
        resolve();
      });
      c.once('error', (e) => {
        spawnError = e;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError || c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`clickhouse-server exited before answering /ping: ${spawnError?.message ?? err}`);
      }
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && (await res.text()).trim() === 'Ok.') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`clickhouse-server did not answer /ping within the timeout: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<void> => {
    await kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    dir,
    tcpPort: ports.tcp,
    get child() {
      return child!;
    },
    stop,
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
  };
}

async function freePorts(): Promise<Ports> {
  return { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
}

export interface ClickHouseOptions {
  readonly timeoutMs?: number;
  /**
   * Files copied into the server's config.d/ (deploy/'s snippets). When given, the built-in ZSTD
   * `<compression>` is left out, so that the files' own settings are what the test sees.
   */
  readonly configD?: readonly string[];
  /** Files copied into users.d/ (beside users.xml). */
  readonly usersD?: readonly string[];
}

/**
 * Runs `start` up to three times. The ports are found free a moment before the servers bind them,
 * and under a loaded machine another process (a test's outgoing connection takes an ephemeral port
 * too) can take one in between: the server then exits at start. A new attempt takes new ports. Each
 * failure is written to stderr, so that a run that still fails shows every cause.
 */
async function attempts<T>(what: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      console.error(`${what}: attempt ${attempt} of 3 failed: ${reason}`);
      if (attempt === 3) throw err;
    }
  }
}

/** Starts clickhouse-server and resolves once `GET /ping` answers `Ok.` (or rejects after timeoutMs). */
export function startClickHouse(opts: ClickHouseOptions = {}): Promise<ClickHouseProcess> {
  return attempts('clickhouse-server', () => startClickHouseOnce(opts));
}

async function startClickHouseOnce(opts: ClickHouseOptions): Promise<ClickHouseProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-clickhouse-'));
  return launch(dir, await freePorts(), opts.configD ? '' : ZSTD_XML, opts.timeoutMs ?? 30_000, {
    ...(opts.configD ? { configD: opts.configD } : {}),
    ...(opts.usersD ? { usersD: opts.usersD } : {}),
  });
}

/** Whether Debian's zookeeper package (and a Java to run it) is installed. */
export function zooKeeperInstalled(): boolean {
  return existsSync(ZOOKEEPER_JAR) && existsSync(JAVA);
}

export interface ZooKeeperProcess {
  readonly port: number;
  readonly dir: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Whether ZooKeeper grants a session: a ConnectRequest (jute: protocolVersion, lastZxidSeen,
 * timeOut, sessionId, passwd, readOnly), answered with a ConnectResponse whose session id is not 0.
 * `ruok` is not enough: ZooKeeper 3.8 answers `imok` a moment before it takes sessions, and
 * clickhouse-server 18.16 crashes (SIGSEGV in zkutil::ZooKeeper::createImpl) when its DDL worker
 * cannot get one at start.
 */
function zkSession(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const req = Buffer.alloc(4 + 45);
    req.writeInt32BE(45, 0);
    // protocolVersion 0, lastZxidSeen 0 (bytes 4..15 stay zero)
    req.writeInt32BE(10_000, 16); // timeOut
    // sessionId 0 (20..27), passwd length 16 and 16 zero bytes, readOnly false
    req.writeInt32BE(16, 28);
    let data = Buffer.alloc(0);
    s.setTimeout(1000, () => s.destroy());
    s.on('connect', () => s.write(req));
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      // length, protocolVersion, timeOut, sessionId
      if (data.length >= 20) {
        const ok = data.readInt32BE(8) > 0 && data.readBigInt64BE(12) !== 0n;
        s.destroy();
        resolve(ok);
      }
    });
    s.on('close', () => resolve(false));
    s.on('error', () => resolve(false));
  });
}

/**
 * Starts Debian's ZooKeeper standalone (ZooKeeperServerMain, one node) on a free loopback port with
 * its data in a temp dir; resolves once it grants a session. The admin HTTP server (port 8080 by
 * default) is off, so that parallel tests do not collide on it.
 */
export async function startZooKeeper(opts: { timeoutMs?: number } = {}): Promise<ZooKeeperProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-zookeeper-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'zoo.cfg'),
    [
      'tickTime=500',
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      // A test's data is thrown away with the directory: no fsync on every transaction.
      'forceSync=no',
      '',
    ].join('\n'),
  );
  const child = spawn(
    JAVA,
    [
      '-Xmx256m',
      '-cp',
      `/etc/zookeeper/conf:${ZOOKEEPER_JAR}`,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      join(dir, 'zoo.cfg'),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!(await zkSession(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`zookeeper did not grant a session: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, dir, child, stop };
}

export interface ClickHouseNode extends ClickHouseProcess {
  /** 1-based, as the `{shard}` macro. */
  readonly shard: number;
  /** The `{replica}` macro: `r1`, `r2`. */
  readonly replica: string;
}

export interface ClickHouseCluster {
  /** Node 1's HTTP interface (shard 1, replica r1). */
  readonly url: string;
  /** Every node's HTTP interface, shard by shard. */
  readonly urls: readonly string[];
  /** The cluster's name in `remote_servers` and the `{cluster}` macro. */
  readonly cluster: string;
  readonly nodes: readonly ClickHouseNode[];
  /** ZooKeeper, when it runs: `ON CLUSTER` DDL and `ReplicatedMergeTree` work only then. */
  readonly zooKeeper: ZooKeeperProcess | undefined;
  /** Stops every server and ZooKeeper, and removes their directories. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The cluster's name (default `kjournal`). */
  readonly cluster?: string;
  /**
   * Two replicas per shard (four servers), `internal_replication` true, for `ReplicatedMergeTree`
   * tables (`/clickhouse/tables/{shard}/NAME`, `{replica}`) and `insert_quorum`. Needs ZooKeeper:
   * rejects when Debian's zookeeper package is not installed. Without it: one replica per shard
   * and `internal_replication` false, as plain MergeTree tables under a Distributed table need.
   */
  readonly replicas?: boolean;
  /** Start ZooKeeper when installed (default true); with `replicas` it is always started. */
  readonly zooKeeper?: boolean;
  readonly timeoutMs?: number;
}

/**
 * One `ON CLUSTER` statement through every node's DDL worker, then every node still answering: a
 * loaded machine once had a node of a just-started cluster go away under the first suite (18.16's
 * DDL worker is fragile while it gets its ZooKeeper session), which failed that suite; here it
 * fails the start instead, which is tried again.
 */
async function distributedDdlWorks(nodes: readonly ClickHouseProcess[], cluster: string, timeoutMs: number) {
  const timeoutS = Math.ceil(timeoutMs / 1000);
  const res = await fetch(`${nodes[0]!.url}/?distributed_ddl_task_timeout=${timeoutS}`, {
    method: 'POST',
    body: `CREATE DATABASE IF NOT EXISTS kj_harness_probe ON CLUSTER ${cluster}`,
    signal: AbortSignal.timeout(timeoutMs + 5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ON CLUSTER DDL failed on a new cluster: ${text.slice(0, 500)}`);
  for (const n of nodes) {
    if (n.child.exitCode !== null || n.child.signalCode !== null)
      throw new Error(`clickhouse-server at ${n.url} exited after the cluster started`);
    const ping = await fetch(`${n.url}/ping`, { signal: AbortSignal.timeout(5000) });
    if (!ping.ok) throw new Error(`clickhouse-server at ${n.url} does not answer /ping after the first DDL`);
  }
}

/**
 * Starts a two-shard ClickHouse cluster on loopback: one server per shard (two with `replicas`),
 * each with the same `remote_servers` section naming the cluster, its own `{cluster}`, `{shard}` and
 * `{replica}` macros, and ZooKeeper (`<zookeeper>` + `<distributed_ddl>`) when it runs. The servers
 * start in parallel.
 */
export function startClickHouseCluster(opts: ClusterOptions = {}): Promise<ClickHouseCluster> {
  return attempts('ClickHouse cluster', () => startClickHouseClusterOnce(opts));
}

async function startClickHouseClusterOnce(opts: ClusterOptions): Promise<ClickHouseCluster> {
  const cluster = opts.cluster ?? 'kjournal';
  const replicas = opts.replicas ? 2 : 1;
  if (opts.replicas && !zooKeeperInstalled()) {
    throw new Error(
      `a replicated cluster needs ZooKeeper: ${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)`,
    );
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const zk =
    opts.replicas || (opts.zooKeeper !== false && zooKeeperInstalled())
      ? await startZooKeeper({ timeoutMs })
      : undefined;
  const layout: { shard: number; replica: string; ports: Ports; dir: string }[] = [];
  try {
    for (let shard = 1; shard <= 2; shard++) {
      for (let r = 1; r <= replicas; r++) {
        layout.push({
          shard,
          replica: `r${r}`,
          ports: await freePorts(),
          dir: await mkdtemp(join(tmpdir(), `kj-clickhouse-s${shard}r${r}-`)),
        });
      }
    }
  } catch (err) {
    await zk?.stop();
    throw err;
  }
  const shardsXml = [1, 2]
    .map(
      (shard) => `      <shard>
        <internal_replication>${replicas > 1}</internal_replication>
${layout
  .filter((n) => n.shard === shard)
  .map((n) => `        <replica><host>127.0.0.1</host><port>${n.ports.tcp}</port></replica>`)
  .join('\n')}
      </shard>`,
    )
    .join('\n');
  const zkXml = zk
    ? `  <zookeeper>
    <node><host>127.0.0.1</host><port>${zk.port}</port></node>
    <session_timeout_ms>30000</session_timeout_ms>
  </zookeeper>
  <distributed_ddl>
    <path>/clickhouse/task_queue/ddl</path>
  </distributed_ddl>
`
    : '';
  const started = await Promise.allSettled(
    layout.map((n) =>
      launch(
        n.dir,
        n.ports,
        `${ZSTD_XML}  <remote_servers>
    <${cluster}>
${shardsXml}
    </${cluster}>
  </remote_servers>
  <macros>
    <cluster>${cluster}</cluster>
    <shard>${n.shard}</shard>
    <replica>${n.replica}</replica>
  </macros>
${zkXml}`,
        timeoutMs,
      ).then((p): ClickHouseNode => Object.assign(p, { shard: n.shard, replica: n.replica })),
    ),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await zk?.stop();
    await Promise.all(layout.map((n) => rm(n.dir, { recursive: true, force: true })));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  if (zk) {
    try {
      await distributedDdlWorks(nodes, cluster, timeoutMs);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return { url: nodes[0]!.url, urls: nodes.map((n) => n.url), cluster, nodes, zooKeeper: zk, stop };
}
