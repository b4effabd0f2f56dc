/**
 * @module `kjournal agent`: reads pod logs, the audit log, Kubernetes events, the journal and
 * syslog on a node and ships them to a kjournal server (or any Loki push endpoint), with positions
 * and a bounded buffer under `--state-dir`. Flags cover the common case; `--config FILE` (YAML, see
 * agent/config.ts) everything; a flag wins over the file.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import '../sources/builtin.js';
import { Agent } from '../agent/agent.js';
import { type AgentConfig, type AgentFlags, ConfigError, loadAgentConfig } from '../agent/config.js';
import { AgentMetrics, serveMetrics } from '../agent/metrics.js';
import { mapRecords } from '../agent/record-map.js';
import { AuditPolicyError, applyPolicyToRecords, resolveAuditPolicy } from '../audit/policy/index.js';
import { KjournalClient } from '../client/client.js';
import { resolveConnection } from '../client/connection.js';
import { acquireDirLock, type DirLock } from '../disk/dir-lock.js';
import { loadPipelineConfig, type PipelineConfig } from '../pipeline/config.js';
import { journalOutput } from '../pipeline/outputs/journal.js';
import { OutputError } from '../pipeline/outputs/output.js';
import { Pipeline } from '../pipeline/runtime.js';
import { AUDIT_SOURCE } from '../sources/audit/index.js';
import { buildSources, SourceUnavailableError } from '../sources/registry.js';
import type { Source } from '../sources/source.js';
import type { Logger } from '../util/log.js';
import { ownVersion } from '../util/version.js';
import { CliError } from './errors.js';
import { addLogFlags, type LogFlags, loggerFromFlags } from './log-flags.js';

export function registerAgent(program: Command): void {
  const cmd = program
    .command('agent')
    .description(
      'Ship a node’s logs (pod logs, audit log, events, journal, syslog) to a kjournal server or any Loki ' +
        'push endpoint, losing nothing while the server is down',
    )
    .option('--config <file>', 'YAML configuration; flags win over it')
    .option('--server <url>', 'kjournal server (or Loki push endpoint) URL (default: http://127.0.0.1:3100)')
    .option('--token <token>', 'bearer token for the server')
    .option('--token-file <file>', 'file holding the bearer token, re-read once a minute (a projected token)')
    .option('--tenant <id>', 'tenant, sent as X-Scope-OrgID')
    .option('--certificate-authority <file>', 'PEM file of the CA that signed the server certificate')
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate (insecure)')
    .option('--state-dir <dir>', 'positions and the on-disk buffer (default: /var/lib/kjournal-agent)')
    .option('--node <name>', 'the node name put on the records')
    .option('--pods-dir <dir>', 'read pod logs from this directory (default source: /var/log/pods)')
    .option('--audit-log <path>', 'read this kube-apiserver audit log')
    .option(
      '--audit-policy <file>',
      'audit.k8s.io/v1 Policy applied to every audit event collected; "none" keeps all (default: changes at Metadata)',
    )
    .option('--events', 'watch Kubernetes events (--kubeconfig, else the in-cluster config)')
    .option(
      '--pod-labels',
      'add pod labels from the Kubernetes API to pod logs (an informer on this node’s pods)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig for --events and --pod-labels (default: the in-cluster config)',
    )
    .option('--journal [match...]', 'read the systemd journal, optionally only FIELD=VALUE matches')
    .option('--journal-dir <dir>', 'journal directory (default: the system journal)')
    .option('--syslog-tcp <addr>', 'accept syslog over TCP on HOST:PORT')
    .option('--syslog-udp <addr>', 'accept syslog over UDP on HOST:PORT')
    .option('--metrics <addr>', 'serve GET /metrics and /ready on HOST:PORT')
    .option(
      '--buffer-max-bytes <size>',
      'on-disk buffer limit; sources wait when it is full (default: 256MiB)',
    )
    .option(
      '--min-free-disk <size|percent>',
      'sources pause (and /ready says not ready) while the state directory’s volume has less free space, ' +
        'e.g. 2GiB or 5%; 0 turns it off (default: 1GiB or 5% of the volume, whichever is smaller)',
    )
    .option('--batch-max-bytes <size>', 'largest push, uncompressed (default: 1MiB)')
    .option('--batch-max-wait <duration>', 'longest a batch waits for more to join (default: 1s)');
  addLogFlags(cmd).action(async (flags: AgentFlags & LogFlags) => {
    await runAgentCommand(flags);
  });
}

export async function runAgentCommand(flags: AgentFlags & LogFlags): Promise<void> {
  const logger = loggerFromFlags(flags);
  let config: Awaited<ReturnType<typeof loadAgentConfig>>;
  let sources: Awaited<ReturnType<typeof buildSources>>;
  try {
    config = await loadAgentConfig(flags);
    const policy = await resolveAuditPolicy(config.auditPolicy);
    sources = await buildSources(config);
    // The policy decides about audit events, which only the audit log source reads: other sources
    // are left unwrapped, so they keep the path that makes no record objects (Source.stageBytes).
    if (policy)
      sources = sources.map((s) =>
        s.name === AUDIT_SOURCE ? mapRecords(s, (records) => applyPolicyToRecords(policy, records)) : s,
      );
  } catch (err) {
    if (
      err instanceof ConfigError ||
      err instanceof SourceUnavailableError ||
      err instanceof AuditPolicyError
    )
      throw new CliError(err.message, 2);
    throw err;
  }
  // One state directory, one agent (disk/dir-lock.ts): a second agent on it would ship every line
  // twice. Taken before the pipeline's outputs or the buffer under it are opened; the agent lets
  // it go when it stops.
  const lock = await acquireDirLock(config.stateDir, 'state directory');
  try {
    await runAgent(flags, config, sources, lock, logger);
  } finally {
    await lock.release();
  }
}

async function runAgent(
  flags: AgentFlags,
  config: AgentConfig,
  initialSources: Source[],
  lock: DirLock,
  logger: Logger,
): Promise<void> {
  let sources = initialSources;
  const connection = await resolveConnection(
    {
      server: config.server,
      ...(config.token !== undefined ? { token: config.token } : {}),
      ...(config.tokenFile !== undefined ? { tokenFile: config.tokenFile } : {}),
      ...(config.tenant !== undefined ? { tenant: config.tenant } : {}),
      ...(config.certificateAuthority !== undefined
        ? { certificateAuthority: config.certificateAuthority }
        : {}),
      insecureSkipTlsVerify: config.insecureSkipTlsVerify,
    },
    {},
  );
  const client = new KjournalClient(connection, { userAgent: 'kjournal-agent', timeoutMs: 30_000 });
  const metrics = new AgentMetrics();
  // Flows and outputs from the same file: what flows route to `journal` is shipped to the server.
  const pipeline = await startPipeline(flags.config, config.stateDir, metrics, logger);
  if (pipeline) sources = sources.map((s) => mapRecords(s, (records) => pipeline.process(records)));
  const agent = new Agent({
    sources,
    client,
    stateDir: config.stateDir,
    bufferMaxBytes: config.bufferMaxBytes,
    batchMaxBytes: config.batchMaxBytes,
    batchMaxWaitMs: config.batchMaxWaitMs,
    ...(config.minFreeDisk ? { minFreeDisk: config.minFreeDisk } : {}),
    lock,
    metrics,
    log: logger.line('warn'),
  });
  const server = config.metrics
    ? await serveMetrics(config.metrics, metrics.registry, () => agent.ready)
    : undefined;
  await agent.start();
  logger.info(
    `kjournal agent: shipping ${sources.map((s) => s.name).join(', ')} to ${connection.server.href}` +
      `${server ? `; metrics on ${server.url}/metrics` : ''}`,
    { version: ownVersion() },
  );
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  logger.info('kjournal agent: stopping');
  await agent.stop();
  await pipeline?.close();
  await server?.close();
  logger.info('kjournal agent: stopped');
}

async function startPipeline(
  file: string | undefined,
  stateDir: string,
  metrics: AgentMetrics,
  logger: Logger,
): Promise<Pipeline | undefined> {
  if (file === undefined) return undefined;
  let config: PipelineConfig;
  try {
    config = await loadPipelineConfig(file);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  if (config.flows.length === 0 && config.outputs.length === 0) return undefined;
  return Pipeline.start({
    config,
    // The agent ships what process() routes to `journal` through its own buffer and shipper.
    journal: journalOutput(async () => {
      throw new OutputError('the agent ships journal records through its buffer', false);
    }),
    stateDir: join(stateDir, 'outputs'),
    registry: metrics.registry,
    log: logger.line('warn'),
  });
}
