/**
 * @module `kjournal serve`: the server on one port, with the embedded store or ClickHouse. Its
 * flags are defined here; `--config FILE` gives any of them as a key of a YAML file
 * (serve-file.ts), and serve-prepare.ts turns flags and file into the server's configuration.
 */
import { type Command, Option } from 'commander';
import { addAuthFlags } from '../auth/index.js';
import type { ReceiverAddresses } from '../server/receivers.js';
import { ownVersion } from '../util/version.js';
import { addClickHouseFlags } from './clickhouse-flags.js';
import { addLogFlags, loggerFromFlags } from './log-flags.js';
import { prepareServe } from './serve-prepare.js';
import { addReceiverFlags } from './serve-receivers.js';

/** The `serve` command's description and options, without its action (`config check` reads them). */
export function defineServe(cmd: Command): Command {
  cmd
    .description('Run the kjournal server: Loki push and query APIs on one port, data in an embedded store')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:3100')
    // The container image sets KJOURNAL_DATA=/var/lib/kjournal (Dockerfile), so that `serve` with
    // any other flags keeps its data on the image's volume; a --data flag still wins.
    .addOption(new Option('--data <dir>', 'data directory').default('./data').env('KJOURNAL_DATA'))
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
    .option(
      '--config <file>',
      'YAML file of settings: every flag as a camelCase key, flows, outputs, retentionStream; flags win over it (see `kjournal config check`)',
    )
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
  return cmd;
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
  const cmd = defineServe(program.command('serve'));
  cmd.action(async (_options: unknown, command: Command) => {
    const { flags, config, auth, storeBackend } = await prepareServe(command, { keepPipeline: true });
    const logger = loggerFromFlags(flags);
    // Loaded here, not at the top: other commands (the agent above all) need not load DuckDB.
    const { DEFAULT_SERVER_CONFIG, startServer } = await import('../server/app.js');
    const server = await startServer({
      ...DEFAULT_SERVER_CONFIG,
      ...config,
      logger,
      metricLimits: { ...DEFAULT_SERVER_CONFIG.metricLimits, ...config.metricLimits },
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
