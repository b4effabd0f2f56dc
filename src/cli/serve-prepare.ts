/**
 * @module From `kjournal serve`'s flags and configuration file to the server's configuration, with
 * nothing started: the file's values are read and judged (every error at once), set under the
 * flags (CLI > environment > file > default), every value parsed by its rule, and the settings
 * that need more than one value or a file's content checked (the auth files, ClickHouse, the
 * receivers' shared key, the kubeconfig). `serve` starts the server with the result;
 * `kjournal config check` runs the same code and stops there, so the two cannot disagree.
 */
import { Command } from 'commander';
import { type AuditPolicy, AuditPolicyError, resolveAuditPolicy } from '../audit/policy/index.js';
import { type Auth, type AuthFlags, addAuthFlags, authConfigFromFlags, createAuth } from '../auth/index.js';
import { DEFAULT_PUSH_LIMITS } from '../formats/loki-push/index.js';
import { loadPodLogSource } from '../kube/direct/pod-log-source.js';
import { closePipelineConfig, readConfigText } from '../pipeline/config.js';
import type { ServerConfig } from '../server/app.js';
import type { StoreBackendConfig } from '../store/open.js';
import { longestRetention } from '../store/store.js';
import { addClickHouseFlags, type ClickHouseFlags, clickhouseBackend } from './clickhouse-flags.js';
import { CliError, CliErrors, oneLineReason } from './errors.js';
import { flagOf } from './flag-values.js';
import type { LogFlags } from './log-flags.js';
import {
  applyFileValues,
  fileKeysOf,
  type ReadOptions,
  readServeFile,
  type ServeFile,
} from './serve-file.js';
import {
  addReceiverFlags,
  type ReceiverFlags,
  receiverHosts,
  receiversFromFlags,
} from './serve-receivers.js';
import { flagValueErrors, serveValue, serveValueOrDefault } from './serve-values.js';

/** The values commander gives `serve`'s action. */
export interface ServeFlags extends AuthFlags, ClickHouseFlags, ReceiverFlags, LogFlags {
  deleteRequestCancelPeriod: string;
  listen: string;
  data: string;
  retention?: string;
  maxLineSize: string;
  rejectOldSamplesMaxAge?: string;
  creationGracePeriod: string;
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
}

/** The attributes each group of flags adds, for errors that involve several of them. */
const attributesOf = (add: (cmd: Command) => unknown): string[] => {
  const cmd = new Command();
  add(cmd);
  return cmd.options.map((o) => o.attributeName());
};
const AUTH = attributesOf(addAuthFlags);
const CLICKHOUSE = attributesOf((c) => addClickHouseFlags(c, ''));
const RECEIVERS = attributesOf(addReceiverFlags);

/** What startServer needs besides its defaults (the action adds those). */
export type ServeConfig = Omit<ServerConfig, 'metricLimits'> & {
  readonly metricLimits: Pick<ServerConfig['metricLimits'], 'maxSeries' | 'maxQueryLength' | 'maxQueryRange'>;
};

export interface PreparedServe {
  readonly flags: ServeFlags;
  readonly config: ServeConfig;
  readonly auth: Auth;
  readonly storeBackend?: StoreBackendConfig;
  /** The configuration file, read (absent without --config). */
  readonly file?: ServeFile;
}

/**
 * An error of a check that involves `attributes`: when some of them came from the file, it is the
 * file's error, located at the first, with the file's keys for the flags' names (`tlsCertFile and
 * tlsPrivateKeyFile must be given together`); otherwise it stays the flags' error.
 */
function fromFile(
  err: unknown,
  cmd: Command,
  file: ServeFile | undefined,
  attributes: readonly string[],
): unknown {
  const involved = attributes.filter((a) => cmd.getOptionValueSource(a) === 'config');
  if (file === undefined || involved.length === 0) return err;
  let text = oneLineReason(err);
  const mentioned = involved.filter((a) => text.includes(flagOf(a)));
  // Longest first: `--tls-cert-file` is not taken out of `--requestheader-...-file`, nor a prefix.
  const keys = [...fileKeysOf(cmd).values()].sort((a, b) => b.attribute.length - a.attribute.length);
  for (const k of keys) text = text.replace(new RegExp(`${flagOf(k.attribute)}(?![\\w-])`, 'g'), k.key);
  const first = mentioned[0] ?? involved[0]!;
  const key = file.keys.get(first) ?? first;
  return new CliError(`${file.where(key)}${mentioned.length > 0 ? '' : `${key}: `}${text}`, 2);
}

/** Reads `--config` (when given) into `cmd` and checks and parses every value; starts nothing. */
export async function prepareServe(cmd: Command, options: ReadOptions): Promise<PreparedServe> {
  const configFile = cmd.getOptionValue('config') as string | undefined;
  let file: ServeFile | undefined;
  if (configFile !== undefined) {
    let text: string;
    try {
      text = await readConfigText(configFile);
    } catch (err) {
      throw new CliError(`--config ${(err as Error).message}`, 2);
    }
    file = await readServeFile(text, configFile, cmd, options);
    if (file.errors.length === 0) applyFileValues(cmd, file.values);
  }
  const pipeline = file?.pipeline;
  try {
    const errors = [...(file?.errors ?? []), ...flagValueErrors(cmd)];
    if (errors.length > 0) throw new CliErrors(errors, 2);
    const flags = cmd.opts() as ServeFlags;
    const step = async <T>(attributes: readonly string[], run: () => T | Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        throw fromFile(err, cmd, file, attributes);
      }
    };
    const { host, port } = serveValueOrDefault(flags, 'listen');
    const retention = serveValue(flags, 'retention');
    const retentionStreams = file?.retentionStreams ?? [];
    const auditPolicy = await step(['auditPolicy'], async (): Promise<AuditPolicy | null> => {
      try {
        return await resolveAuditPolicy(flags.auditPolicy);
      } catch (err) {
        if (err instanceof AuditPolicyError) throw new CliError(err.message, 2);
        throw err;
      }
    });
    // By default a push may be as old as the longest retention keeps (a stream rule may keep some
    // streams longer than --retention).
    const longest =
      retention === undefined ? undefined : longestRetention({ period: retention, rules: retentionStreams });
    const maxAge = serveValue(flags, 'rejectOldSamplesMaxAge') ?? longest;
    const storeBackend = await step(CLICKHOUSE, () =>
      clickhouseBackend(flags, file?.replicated !== undefined ? { replicated: file.replicated } : {}),
    );
    const auth = await step(AUTH, () => createAuth(authConfigFromFlags(flags)));
    await step(['listen'], () => auth.checkListen(host));
    const receivers = await step(RECEIVERS, () => {
      const r = receiversFromFlags(flags);
      for (const at of receiverHosts(r)) auth.checkListen(at);
      return r;
    });
    const direct = flags.kubeconfig
      ? await step(['kubeconfig', 'context'], () => loadPodLogSource(flags.kubeconfig!, flags.context))
      : undefined;
    const maxConcurrentQueries = serveValue(flags, 'maxConcurrentQueries');
    const minFreeDisk = serveValue(flags, 'minFreeDisk');
    const config: ServeConfig = {
      auth,
      host,
      port,
      dataDir: flags.data,
      ...(storeBackend ? { storeBackend } : {}),
      ...(retention === undefined ? {} : { retention }),
      limits: {
        ...DEFAULT_PUSH_LIMITS,
        maxLineSize: serveValueOrDefault(flags, 'maxLineSize'),
        rejectOldSamples: maxAge !== undefined,
        rejectOldSamplesMaxAge: maxAge ?? 0n,
        creationGracePeriod: serveValueOrDefault(flags, 'creationGracePeriod'),
      },
      maxBodyBytes: serveValueOrDefault(flags, 'maxBodySize'),
      maxPushEntries: serveValueOrDefault(flags, 'maxPushEntries'),
      requestTimeoutMs: Number(serveValueOrDefault(flags, 'httpReadTimeout') / 1_000_000n),
      maxEntriesLimit: serveValueOrDefault(flags, 'maxEntriesLimit'),
      queryTimeoutMs: Number(serveValueOrDefault(flags, 'queryTimeout') / 1_000_000n),
      metricLimits: {
        maxSeries: serveValueOrDefault(flags, 'maxQuerySeries'),
        maxQueryLength: serveValueOrDefault(flags, 'maxQueryLength'),
        maxQueryRange: serveValueOrDefault(flags, 'maxQueryRange'),
      },
      queryMemoryLimit: `${Math.floor(serveValueOrDefault(flags, 'queryMemoryLimit'))}B`,
      ...(maxConcurrentQueries === undefined ? {} : { maxConcurrentQueries }),
      maxQueuedQueries: serveValueOrDefault(flags, 'maxQueuedQueries'),
      tailBufferBytes: serveValueOrDefault(flags, 'tailBufferSize'),
      maxTailsPerTenant: serveValueOrDefault(flags, 'maxConcurrentTailRequests'),
      auditPolicy,
      retentionStreams,
      deleteRequestCancelPeriod: serveValueOrDefault(flags, 'deleteRequestCancelPeriod'),
      tenantHeader: flags.disableTenantHeader !== true,
      ui: serveValueOrDefault(flags, 'ui'),
      ...(minFreeDisk ? { minFreeDisk } : {}),
      ...(pipeline ? { pipeline } : {}),
      receivers,
      kube: {
        listWindowNs: serveValueOrDefault(flags, 'kubeListWindow'),
        listMaxItems: serveValueOrDefault(flags, 'kubeListMaxItems'),
        ...(direct ? { direct: { source: direct } } : {}),
      },
    };
    return { flags, config, auth, ...(storeBackend ? { storeBackend } : {}), ...(file ? { file } : {}) };
  } catch (err) {
    if (pipeline && options.keepPipeline) await closePipelineConfig(pipeline);
    throw err;
  }
}
