/**
 * @module `kjournal serve`: the server on one port, with the embedded store or ClickHouse.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type AuthFlags, addAuthFlags, authConfigFromFlags, createAuth } from '../auth/index.js';
import { parseMinFree } from '../disk/disk-space.js';
import { DEFAULT_PUSH_LIMITS } from '../formats/loki-push/index.js';
import { parseDuration } from '../go/duration.js';
import { loadPodLogSource } from '../kube/direct/pod-log-source.js';
import type { ReceiverAddresses, ReceiversConfig } from '../server/receivers.js';
import { longestRetention } from '../store/store.js';
import { sizeOrZero } from '../util/size.js';
import { ownVersion } from '../util/version.js';
import { addClickHouseFlags, type ClickHouseFlags, clickhouseBackend } from './clickhouse-flags.js';
import { CliError } from './errors.js';
import { addLogFlags, type LogFlags, loggerFromFlags } from './log-flags.js';
import { loadServeSettings } from './serve-config.js';

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new CliError(`--listen must be HOST:PORT, got ${JSON.stringify(value)}`, 2);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function duration(flag: string, value: string): bigint {
  const ns = parseDuration(value);
  if (ns === undefined || ns < 0n)
    throw new CliError(`${flag} must be a duration such as 30d or 12h, got ${JSON.stringify(value)}`, 2);
  return ns;
}

function bytes(flag: string, value: string): number {
  const n = sizeOrZero(value);
  if (n === undefined)
    throw new CliError(`${flag} must be a size such as 256KB or 64MiB, got ${JSON.stringify(value)}`, 2);
  return n;
}

interface ServeFlags extends AuthFlags, ClickHouseFlags, LogFlags {
  deleteRequestCancelPeriod: string;
  listen: string;
  data: string;
  retention?: string;
  maxLineSize?: string;
  rejectOldSamplesMaxAge?: string;
  creationGracePeriod?: string;
  maxBodySize: string;
  maxPushEntries: string;
  httpReadTimeout: string;
  maxEntriesLimit: string;
  queryTimeout: string;
  maxQuerySeries: string;
  maxQueryLength: string;
  maxQueryRange: string;
  queryMemoryLimit: string;
  maxConcurrentQueries?: string;
  maxQueuedQueries: string;
  tailBufferSize: string;
  maxConcurrentTailRequests: string;
  kubeListWindow: string;
  kubeListMaxItems: string;
  kubeconfig?: string;
  context?: string;
  config?: string;
  auditPolicy?: string;
  minFreeDisk?: string;
  disableTenantHeader?: boolean;
  ui: string;
  forwardListen?: string;
  forwardSharedKeyFile?: string;
  forwardTenant?: string;
  forwardMaxMessageSize: string;
  syslogTcp?: string;
  syslogUdp?: string;
  syslogTls?: string;
  syslogTenant?: string;
  gelfUdp?: string;
  gelfTcp?: string;
  gelfTenant?: string;
  gelfMaxMessageSize: string;
}

/** `--min-free-disk`: a size or a percentage of the volume. */
export function minFree(value: string): ReturnType<typeof parseMinFree> {
  const w = parseMinFree(value);
  if (w === undefined)
    throw new CliError(
      `--min-free-disk must be a size such as 2GiB or a percentage such as 5%, got ${JSON.stringify(value)}`,
      2,
    );
  return w;
}

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new CliError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`, 2);
  }
  return n;
}

function nonNegativeInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new CliError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`, 2);
  }
  return n;
}

/** `--forward-listen` and the other receivers' addresses (`HOST:PORT`). */
function listenFlag(flag: string, value: string | undefined): { host: string; port: number } | undefined {
  if (value === undefined) return undefined;
  try {
    return parseListen(value);
  } catch {
    throw new CliError(`${flag} must be HOST:PORT, got ${JSON.stringify(value)}`, 2);
  }
}

function addReceiverFlags(cmd: Command): void {
  cmd
    .option(
      '--forward-listen <host:port>',
      'receive the Fluentd forward protocol (Fluent Bit, Fluentd, Docker) on this TCP port, heartbeat on UDP',
    )
    .option(
      '--forward-shared-key-file <file>',
      "the forward handshake's shared key (HELO/PING/PONG); needed with authentication on",
    )
    .option('--forward-tenant <tenant>', 'tenant of what --forward-listen receives', 'default')
    .option(
      '--forward-max-message-size <size>',
      'largest forward message; a larger one drops the connection',
      '16MiB',
    )
    .option(
      '--syslog-tcp <host:port>',
      'receive syslog (RFC 5424/3164, octet counting or LF framing) on this TCP port',
    )
    .option('--syslog-udp <host:port>', 'receive syslog datagrams on this UDP port')
    .option(
      '--syslog-tls <host:port>',
      'receive syslog over TLS (RFC 5425) with the --tls-cert-file certificate',
    )
    .option('--syslog-tenant <tenant>', 'tenant of what the syslog listeners receive', 'default')
    .option('--gelf-udp <host:port>', 'receive GELF (chunked, gzip or zlib) on this UDP port')
    .option('--gelf-tcp <host:port>', 'receive NUL-delimited GELF on this TCP port')
    .option('--gelf-tenant <tenant>', 'tenant of what the GELF listeners receive', 'default')
    .option(
      '--gelf-max-message-size <size>',
      'largest GELF message (TCP frame, reassembled UDP chunks)',
      '1MiB',
    );
}

function receiversFromFlags(flags: ServeFlags): ReceiversConfig {
  const forward = listenFlag('--forward-listen', flags.forwardListen);
  const sharedKey =
    flags.forwardSharedKeyFile === undefined
      ? undefined
      : readSecret('--forward-shared-key-file', flags.forwardSharedKeyFile);
  const syslog = {
    tcp: listenFlag('--syslog-tcp', flags.syslogTcp),
    udp: listenFlag('--syslog-udp', flags.syslogUdp),
    tls: listenFlag('--syslog-tls', flags.syslogTls),
  };
  const gelf = { udp: listenFlag('--gelf-udp', flags.gelfUdp), tcp: listenFlag('--gelf-tcp', flags.gelfTcp) };
  return {
    ...(forward
      ? {
          forward: {
            listen: forward,
            ...(sharedKey !== undefined ? { sharedKey } : {}),
            ...(flags.forwardTenant ? { tenant: flags.forwardTenant } : {}),
            maxMessageBytes: bytes('--forward-max-message-size', flags.forwardMaxMessageSize),
          },
        }
      : {}),
    syslog: {
      ...(syslog.tcp ? { tcp: syslog.tcp } : {}),
      ...(syslog.udp ? { udp: syslog.udp } : {}),
      ...(syslog.tls ? { tls: syslog.tls } : {}),
      ...(flags.syslogTenant ? { tenant: flags.syslogTenant } : {}),
    },
    gelf: {
      ...(gelf.udp ? { udp: gelf.udp } : {}),
      ...(gelf.tcp ? { tcp: gelf.tcp } : {}),
      ...(flags.gelfTenant ? { tenant: flags.gelfTenant } : {}),
      maxMessageBytes: bytes('--gelf-max-message-size', flags.gelfMaxMessageSize),
    },
  };
}

function receiverHosts(r: ReceiversConfig): string[] {
  return [r.forward?.listen, r.syslog?.tcp, r.syslog?.udp, r.syslog?.tls, r.gelf?.udp, r.gelf?.tcp]
    .filter((a) => a !== undefined)
    .map((a) => a.host);
}

/** A secret file's first line (a trailing newline is no part of the key). */
function readSecret(flag: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${file}: ${(err as Error).message}`, 2);
  }
  const key = text.split(/\r?\n/)[0] ?? '';
  if (key === '') throw new CliError(`${flag}: ${file} is empty`, 2);
  return key;
}

function describeReceivers(a: ReceiverAddresses): string {
  const at = (x: { address: string; port: number }) =>
    x.address.includes(':') ? `[${x.address}]:${x.port}` : `${x.address}:${x.port}`;
  const parts: string[] = [];
  if (a.forward) parts.push(`forward on tcp ${at(a.forward)}`);
  if (a.syslogTcp) parts.push(`syslog on tcp ${at(a.syslogTcp)}`);
  if (a.syslogUdp) parts.push(`syslog on udp ${at(a.syslogUdp)}`);
  if (a.syslogTls) parts.push(`syslog on tls ${at(a.syslogTls)}`);
  if (a.gelfUdp) parts.push(`gelf on udp ${at(a.gelfUdp)}`);
  if (a.gelfTcp) parts.push(`gelf on tcp ${at(a.gelfTcp)}`);
  return parts.length > 0 ? `kjournal: receivers: ${parts.join(', ')}` : '';
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('Run the kjournal server: Loki push and query APIs on one port, data in an embedded store')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:3100')
    .option('--data <dir>', 'data directory', './data')
    .option(
      '--retention <duration>',
      'delete data older than this, per day (e.g. 30d); default keeps forever',
    )
    .option('--max-line-size <size>', 'longest accepted log line (Loki max_line_size)', '256KB')
    .option(
      '--reject-old-samples-max-age <duration>',
      'refuse entries older than this (Loki reject_old_samples_max_age); default: the retention, else no limit',
    )
    .option('--creation-grace-period <duration>', 'refuse entries further in the future than this', '10m')
    .option('--max-body-size <size>', 'largest accepted request body', '64MiB')
    .option('--max-push-entries <n>', 'most entries (and streams) one push may hold', '100000')
    .option(
      '--http-read-timeout <duration>',
      'time to receive a whole request, headers and body, before a 408 (Loki http_server_read_timeout)',
      '30s',
    )
    .option('--max-entries-limit <n>', 'largest `limit` a query may ask for', '5000')
    .option(
      '--query-timeout <duration>',
      'cancel a query still running after this (Loki query_timeout)',
      '1m',
    )
    .option('--max-query-series <n>', 'most series a metric query may return (Loki max_query_series)', '500')
    .option(
      '--max-query-length <duration>',
      'longest time range a metric query may cover; 0 turns the limit off (Loki max_query_length)',
      '721h',
    )
    .option(
      '--max-query-range <duration>',
      'longest [range] in a metric query; 0 turns the limit off (Loki max_query_range)',
      '0',
    )
    .option(
      '--query-memory-limit <size>',
      'memory the query engine may use before it spills to disk',
      '192MiB',
    )
    .option(
      '--max-concurrent-queries <n>',
      'queries that run at once (Loki querier max_concurrent); default: one per CPU, at most one per 32MiB of --query-memory-limit',
    )
    .option(
      '--max-queued-queries <n>',
      'queries one tenant may have waiting; beyond, 429 (Loki max_outstanding_per_tenant)',
      '100',
    )
    .option(
      '--tail-buffer-size <size>',
      'bytes one tail or watch may hold, queued and unsent; beyond, a tail drops (dropped_entries) and a watch ends',
      '8MiB',
    )
    .option(
      '--max-concurrent-tail-requests <n>',
      'open tails per tenant; 0 for no limit (Loki max_concurrent_tail_requests)',
      '10',
    )
    .option(
      '--disable-tenant-header',
      'ignore X-Scope-OrgID: every request is the tenant "default" (Loki auth_enabled: false)',
    )
    .option(
      '--kube-list-window <duration>',
      'time window of a core.kjournal list without a metadata.creationTimestamp field selector',
      '24h',
    )
    .option(
      '--kube-list-max-items <n>',
      "most items of a core.kjournal list without a limit (or kubectl's default 500): its newest, with a Warning; 0 for no cap",
      '5000',
    )
    .option(
      '--kubeconfig <file>',
      'read live pod logs from this cluster for lists of one pod the store is behind on',
    )
    .option('--context <name>', 'context of --kubeconfig (default: its current context)')
    .option('--config <file>', 'YAML with flows and outputs (and auditPolicy): see `kjournal config check`')
    .option(
      '--audit-policy <file>',
      'audit.k8s.io/v1 Policy applied to /ingest/audit; "none" keeps every event (default: changes at Metadata)',
    )
    .option(
      '--delete-request-cancel-period <duration>',
      'how long a delete request can be cancelled before its entries are removed from disk; they leave every read at once (Loki delete_request_cancel_period)',
      '24h',
    )
    .option('--ui <bool>', 'serve the web page at / and /ui/ (--ui=false turns it off)', 'true')
    .option(
      '--min-free-disk <size|percent>',
      'writes answer 507 while the data volume has less free space than this, e.g. 2GiB or 5%; 0 turns it off ' +
        '(default: 1GiB or 5% of the volume, whichever is smaller)',
    );
  addReceiverFlags(cmd);
  addAuthFlags(cmd);
  addLogFlags(cmd);
  addClickHouseFlags(cmd, 'keep the journal in ClickHouse instead of the embedded store:');
  cmd.action(async (flags: ServeFlags) => {
    const logger = loggerFromFlags(flags);
    const { host, port } = parseListen(flags.listen);
    const retention = flags.retention === undefined ? undefined : duration('--retention', flags.retention);
    const deleteCancel = duration('--delete-request-cancel-period', flags.deleteRequestCancelPeriod);
    const maxEntriesLimit = positiveInteger('--max-entries-limit', flags.maxEntriesLimit);
    const queryTimeout = duration('--query-timeout', flags.queryTimeout);
    if (queryTimeout <= 0n) throw new CliError('--query-timeout must be longer than 0', 2);
    const queryMemory = bytes('--query-memory-limit', flags.queryMemoryLimit);
    if (queryMemory < 16 << 20) throw new CliError('--query-memory-limit must be at least 16MiB', 2);
    const readTimeout = duration('--http-read-timeout', flags.httpReadTimeout);
    if (readTimeout <= 0n) throw new CliError('--http-read-timeout must be longer than 0', 2);
    const maxConcurrentQueries =
      flags.maxConcurrentQueries === undefined
        ? undefined
        : positiveInteger('--max-concurrent-queries', flags.maxConcurrentQueries);
    const tailBufferBytes = bytes('--tail-buffer-size', flags.tailBufferSize);
    if (tailBufferBytes < 64 << 10) throw new CliError('--tail-buffer-size must be at least 64KiB', 2);
    const kubeListWindow = duration('--kube-list-window', flags.kubeListWindow);
    if (kubeListWindow <= 0n) throw new CliError('--kube-list-window must be longer than 0', 2);
    const kubeListMaxItems = nonNegativeInteger('--kube-list-max-items', flags.kubeListMaxItems);
    const minFreeDisk = flags.minFreeDisk === undefined ? undefined : minFree(flags.minFreeDisk);
    if (flags.ui !== 'true' && flags.ui !== 'false')
      throw new CliError(`--ui must be true or false, got ${JSON.stringify(flags.ui)}`, 2);
    const settings = await loadServeSettings(flags.config, flags.auditPolicy);
    // By default a push may be as old as the longest retention keeps (a stream rule may keep some
    // streams longer than --retention).
    const longest =
      retention === undefined
        ? undefined
        : longestRetention({ period: retention, rules: settings.retentionStreams });
    const maxAge =
      flags.rejectOldSamplesMaxAge !== undefined
        ? duration('--reject-old-samples-max-age', flags.rejectOldSamplesMaxAge)
        : longest;
    const storeBackend = await clickhouseBackend(flags, settings.clickhouse);
    const auth = createAuth(authConfigFromFlags(flags));
    auth.checkListen(host);
    const receivers = receiversFromFlags(flags);
    for (const at of receiverHosts(receivers)) auth.checkListen(at);
    // Loaded here, not at the top: other commands (the agent above all) need not load DuckDB.
    const { DEFAULT_SERVER_CONFIG, startServer } = await import('../server/app.js');
    const server = await startServer({
      auth,
      logger,
      ...DEFAULT_SERVER_CONFIG,
      host,
      port,
      dataDir: flags.data,
      ...(storeBackend ? { storeBackend } : {}),
      ...(retention === undefined ? {} : { retention }),
      limits: {
        ...DEFAULT_PUSH_LIMITS,
        maxLineSize: bytes('--max-line-size', flags.maxLineSize ?? '256KB'),
        rejectOldSamples: maxAge !== undefined,
        rejectOldSamplesMaxAge: maxAge ?? 0n,
        creationGracePeriod: duration('--creation-grace-period', flags.creationGracePeriod ?? '10m'),
      },
      maxBodyBytes: bytes('--max-body-size', flags.maxBodySize),
      maxPushEntries: positiveInteger('--max-push-entries', flags.maxPushEntries),
      requestTimeoutMs: Number(readTimeout / 1_000_000n),
      maxEntriesLimit,
      queryTimeoutMs: Number(queryTimeout / 1_000_000n),
      metricLimits: {
        ...DEFAULT_SERVER_CONFIG.metricLimits,
        maxSeries: positiveInteger('--max-query-series', flags.maxQuerySeries),
        maxQueryLength: duration('--max-query-length', flags.maxQueryLength),
        maxQueryRange: duration('--max-query-range', flags.maxQueryRange),
      },
      queryMemoryLimit: `${Math.floor(queryMemory)}B`,
      ...(maxConcurrentQueries === undefined ? {} : { maxConcurrentQueries }),
      maxQueuedQueries: nonNegativeInteger('--max-queued-queries', flags.maxQueuedQueries),
      tailBufferBytes,
      maxTailsPerTenant: nonNegativeInteger(
        '--max-concurrent-tail-requests',
        flags.maxConcurrentTailRequests,
      ),
      auditPolicy: settings.auditPolicy,
      retentionStreams: settings.retentionStreams,
      deleteRequestCancelPeriod: deleteCancel,
      tenantHeader: flags.disableTenantHeader !== true,
      ui: flags.ui === 'true',
      ...(minFreeDisk ? { minFreeDisk } : {}),
      ...(settings.pipeline ? { pipeline: settings.pipeline } : {}),
      receivers,
      kube: {
        listWindowNs: kubeListWindow,
        listMaxItems: kubeListMaxItems,
        ...(flags.kubeconfig
          ? { direct: { source: loadPodLogSource(flags.kubeconfig, flags.context) } }
          : {}),
      },
    });
    const tenants = flags.disableTenantHeader
      ? 'X-Scope-OrgID is ignored (--disable-tenant-header): every request is the tenant "default"'
      : 'X-Scope-OrgID names the tenant; any but "default" needs get (reads) or create (writes) on tenants.core.kjournal named after it';
    // "serving on" last: whoever reads up to it has the rest too.
    const receiversLine = describeReceivers(server.receivers);
    if (receiversLine) logger.info(receiversLine);
    logger.info(`kjournal: ${auth.describe()}`);
    logger.info(`kjournal: tenants: ${tenants}`);
    logger.info(
      `kjournal serving on ${server.url} (${storeBackend?.kind === 'clickhouse' ? `journal in ClickHouse at ${storeBackend.url}, database ${storeBackend.database ?? 'kjournal'}; local state in ${flags.data}` : `data in ${flags.data}`})`,
      { version: ownVersion() },
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info(`kjournal: ${signal}, shutting down`);
        server.close().then(
          () => {
            logger.info('kjournal: stopped');
            resolve();
          },
          (err: unknown) => {
            logger.error(`kjournal: shutting down failed: ${(err as Error).message}`);
            resolve();
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });
}
