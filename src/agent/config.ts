/**
 * @module `kjournal agent`'s configuration: the YAML file of `--config FILE` merged with the flags
 * (a flag wins over the file), validated with one-line errors that name the field.
 *
 * ```yaml
 * server: http://kjournal.example:3100   # a kjournal server, or any Loki push endpoint
 * tenant: team-a                         # X-Scope-OrgID (also token, certificateAuthority,
 *                                        #   insecureSkipTlsVerify)
 * stateDir: /var/lib/kjournal-agent      # positions and the buffer
 * node: worker-1
 * metrics: ":9101"                       # GET /metrics and /ready
 * buffer: { maxBytes: 256MiB, minFreeDisk: 1GiB }  # minFreeDisk: sources pause while the state
 *                                        #   volume has less free (a size or a percentage)
 * batch: { maxBytes: 1MiB, maxWait: 1s }
 * pods: { dir: /var/log/pods, labels: true }  # labels: pod labels from the API (an informer;
 *                                        #   pods.kubeconfig, else the in-cluster config)
 * audit: { path: /var/log/kubernetes/audit/audit.log }
 * events: { kubeconfig: /etc/kjournal/kubeconfig }   # or `events: {}` for the in-cluster config
 * journal: { dir: /var/log/journal, matches: [SYSLOG_IDENTIFIER=kata] }
 * syslog: { tcp: "0.0.0.0:5140", udp: "0.0.0.0:5140" }
 * auditPolicy: /etc/kjournal/audit-policy.yaml   # or "none"; absent: the built-in default
 * outputs: [...]                         # the pipeline (src/pipeline/config.ts), as for serve
 * flows: [...]
 * ```
 *
 * With no source configured at all, the agent reads pod logs from `/var/log/pods` (the common case).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SERVER } from '../client/options.js';
import { type DiskWatermark, parseMinFree } from '../disk/disk-space.js';
import { isObj, type Obj } from '../formats/json-util.js';
import { parseDuration } from '../go/duration.js';
import { PIPELINE_KEYS } from '../pipeline/config.js';
import { sizeValue } from '../util/size.js';
import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_WAIT_MS, DEFAULT_BUFFER_MAX_BYTES } from './agent.js';

export const DEFAULT_STATE_DIR = '/var/lib/kjournal-agent';
export const DEFAULT_PODS_DIR = '/var/log/pods';

export interface PodsSection {
  readonly dir: string;
  /** Add each pod's labels (`kubernetes_labels_*`), watched through the Kubernetes API. */
  readonly labels?: boolean;
  /** For `labels`; absent: the in-cluster configuration. */
  readonly kubeconfig?: string;
}
export interface AuditSection {
  readonly path: string;
}
export interface EventsSection {
  /** Absent: the in-cluster configuration. */
  readonly kubeconfig?: string;
}
export interface JournalSection {
  /** Absent: the system journal. */
  readonly dir?: string;
  /** Field matches such as `SYSLOG_IDENTIFIER=kata` (journalctl's). */
  readonly matches: readonly string[];
}
export interface SyslogSection {
  readonly tcp?: string;
  readonly udp?: string;
}

export interface SourceSections {
  readonly pods?: PodsSection;
  readonly audit?: AuditSection;
  readonly events?: EventsSection;
  readonly journal?: JournalSection;
  readonly syslog?: SyslogSection;
}
export type SourceKind = keyof SourceSections;

export interface AgentConfig {
  readonly server: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly tenant?: string;
  readonly certificateAuthority?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly stateDir: string;
  readonly node?: string;
  readonly metrics?: string;
  readonly bufferMaxBytes: number;
  /** Sources pause while the state directory's volume has less free space (absent: the default). */
  readonly minFreeDisk?: DiskWatermark;
  readonly batchMaxBytes: number;
  readonly batchMaxWaitMs: number;
  readonly sources: SourceSections;
  /** `--audit-policy`: a Policy file, `none`, or absent for the built-in default. */
  readonly auditPolicy?: string;
}

/** The flags of `kjournal agent`, as commander names them (all optional: the file may say it). */
export interface AgentFlags {
  config?: string;
  server?: string;
  token?: string;
  tokenFile?: string;
  tenant?: string;
  auditPolicy?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  stateDir?: string;
  node?: string;
  metrics?: string;
  bufferMaxBytes?: string;
  minFreeDisk?: string;
  batchMaxBytes?: string;
  batchMaxWait?: string;
  podsDir?: string;
  auditLog?: string;
  events?: boolean;
  /** `--pod-labels`: the pods source adds pod labels from the API. */
  podLabels?: boolean;
  kubeconfig?: string;
  /** `--journal` alone is true; `--journal A=b C=d` gives the matches. */
  journal?: boolean | string[];
  journalDir?: string;
  syslogTcp?: string;
  syslogUdp?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `256MiB`, `1MB`, `4096` (bytes). */
export function parseSize(value: unknown, field: string): number {
  const n = sizeValue(value);
  if (n === undefined)
    throw new ConfigError(`${field}: must be a size such as 1MiB or 256MB, got ${show(value)}`);
  return n;
}

/** A low disk watermark: a size (`1GiB`, `0` for none) or a percentage of the volume (`5%`). */
function minFree(value: unknown, field: string): DiskWatermark {
  const w =
    typeof value === 'number'
      ? parseMinFree(String(value))
      : typeof value === 'string'
        ? parseMinFree(value)
        : undefined;
  if (w === undefined)
    throw new ConfigError(
      `${field}: must be a size such as 1GiB or a percentage such as 5%, got ${show(value)}`,
    );
  return w;
}

/** `1s`, `500ms`, `2m`; a number is seconds. */
export function parseDurationMs(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  const ns = typeof value === 'string' ? parseDuration(value.trim()) : undefined;
  if (ns === undefined || ns < 0n) {
    throw new ConfigError(`${field}: must be a duration such as 1s or 500ms, got ${show(value)}`);
  }
  return Number(ns / 1_000_000n);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

/** Checks that `v` is a mapping with only `keys`. */
function section(v: unknown, field: string, keys: readonly string[]): Obj {
  if (v === null || v === true) return {};
  if (!isObj(v)) throw new ConfigError(`${field}: must be a mapping, got ${show(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) {
      throw new ConfigError(`${field}.${k}: unknown field (known: ${keys.join(', ')})`.replace(/^\./, ''));
    }
  }
  return v;
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '')
    throw new ConfigError(`${field}: must be a non-empty string, got ${show(v)}`);
  return v;
}

function req(v: string | undefined, field: string): string {
  if (v === undefined) throw new ConfigError(`${field}: is required`);
  return v;
}

const MATCH_RE = /^[A-Z0-9_]+=.*$/;

function matches(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${field}: must be a list of FIELD=VALUE, got ${show(v)}`);
  return v.map((m, i) => {
    if (typeof m !== 'string' || !MATCH_RE.test(m)) {
      throw new ConfigError(
        `${field}[${i}]: must be FIELD=VALUE such as SYSLOG_IDENTIFIER=kata, got ${show(m)}`,
      );
    }
    return m;
  });
}

const TOP_KEYS = [
  'server',
  'token',
  'tokenFile',
  'auditPolicy',
  // The pipeline's sections, read by src/pipeline/config.ts from the same file.
  ...PIPELINE_KEYS,
  'tenant',
  'certificateAuthority',
  'insecureSkipTlsVerify',
  'stateDir',
  'node',
  'metrics',
  'buffer',
  'batch',
  'pods',
  'audit',
  'events',
  'journal',
  'syslog',
] as const;

/** Parses the YAML text of a config file (`name` is used in messages). */
export function parseConfigFile(text: string, name: string): Obj {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${name}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new ConfigError(`${name}: must be a YAML mapping`);
  return doc;
}

/**
 * The configuration from the file's content (already parsed; `{}` without a file) and the flags.
 * Errors name the field (`batch.maxWait: ...`) or the flag (`--batch-max-wait: ...`).
 */
export function mergeConfig(file: Obj, flags: AgentFlags): AgentConfig {
  const top = section(file, '', TOP_KEYS);
  const buffer = section(top.buffer ?? {}, 'buffer', ['maxBytes', 'minFreeDisk']);
  const batch = section(top.batch ?? {}, 'batch', ['maxBytes', 'maxWait']);
  const pick = <T>(flag: T | undefined, fileValue: T | undefined): T | undefined => flag ?? fileValue;

  const server = pick(flags.server, str(top.server, 'server')) ?? DEFAULT_SERVER;
  try {
    const u = new URL(server);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new ConfigError(
      `${flags.server ? '--server' : 'server'}: must be an http:// or https:// URL, got ${show(server)}`,
    );
  }
  const insecure = top.insecureSkipTlsVerify;
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw new ConfigError(`insecureSkipTlsVerify: must be true or false, got ${show(insecure)}`);
  }
  const sizeOf = (flag: string | undefined, flagName: string, v: unknown, field: string, dflt: number) =>
    flag !== undefined ? parseSize(flag, flagName) : v !== undefined ? parseSize(v, field) : dflt;

  const sources: {
    pods?: PodsSection;
    audit?: AuditSection;
    events?: EventsSection;
    journal?: JournalSection;
    syslog?: SyslogSection;
  } = {};
  // Sections of the file; `key: false` leaves a source out.
  const on = (v: unknown) => v !== undefined && v !== false;
  if (on(top.pods)) {
    const s = section(top.pods, 'pods', ['dir', 'labels', 'kubeconfig']);
    if (s.labels !== undefined && typeof s.labels !== 'boolean')
      throw new ConfigError(`pods.labels: must be true or false, got ${show(s.labels)}`);
    const kubeconfig = str(s.kubeconfig, 'pods.kubeconfig');
    if (kubeconfig !== undefined && s.labels !== true)
      throw new ConfigError('pods.kubeconfig: only used with pods.labels: true');
    sources.pods = {
      dir: str(s.dir, 'pods.dir') ?? DEFAULT_PODS_DIR,
      ...(s.labels === true ? { labels: true } : {}),
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    };
  }
  if (on(top.audit)) {
    const s = section(top.audit, 'audit', ['path']);
    sources.audit = { path: req(str(s.path, 'audit.path'), 'audit.path') };
  }
  if (on(top.events)) {
    const s = section(top.events, 'events', ['kubeconfig']);
    const kubeconfig = str(s.kubeconfig, 'events.kubeconfig');
    sources.events = kubeconfig !== undefined ? { kubeconfig } : {};
  }
  if (on(top.journal)) {
    const s = section(top.journal, 'journal', ['dir', 'matches']);
    const dir = str(s.dir, 'journal.dir');
    sources.journal = {
      ...(dir !== undefined ? { dir } : {}),
      matches: matches(s.matches, 'journal.matches'),
    };
  }
  if (on(top.syslog)) {
    const s = section(top.syslog, 'syslog', ['tcp', 'udp']);
    const tcp = str(s.tcp, 'syslog.tcp');
    const udp = str(s.udp, 'syslog.udp');
    if (tcp === undefined && udp === undefined)
      throw new ConfigError('syslog: needs tcp or udp (an address)');
    sources.syslog = { ...(tcp !== undefined ? { tcp } : {}), ...(udp !== undefined ? { udp } : {}) };
  }

  // Flags win.
  if (flags.podsDir !== undefined) sources.pods = { ...sources.pods, dir: flags.podsDir };
  if (flags.podLabels) sources.pods = { dir: DEFAULT_PODS_DIR, ...sources.pods, labels: true };
  if (flags.auditLog !== undefined) sources.audit = { path: flags.auditLog };
  if (flags.events) sources.events = { ...sources.events };
  if (flags.kubeconfig !== undefined) {
    if (!sources.events && !sources.pods?.labels)
      throw new ConfigError(
        '--kubeconfig: only used by the events source and pod labels (add --events or --pod-labels)',
      );
    if (sources.events) sources.events = { kubeconfig: flags.kubeconfig };
    if (sources.pods?.labels) sources.pods = { ...sources.pods, kubeconfig: flags.kubeconfig };
  }
  if (flags.journal !== undefined || flags.journalDir !== undefined) {
    const prev = sources.journal;
    const m = Array.isArray(flags.journal) ? matches(flags.journal, '--journal') : (prev?.matches ?? []);
    const dir = flags.journalDir ?? prev?.dir;
    sources.journal = { ...(dir !== undefined ? { dir } : {}), matches: m };
  }
  if (flags.syslogTcp !== undefined || flags.syslogUdp !== undefined) {
    const tcp = flags.syslogTcp ?? sources.syslog?.tcp;
    const udp = flags.syslogUdp ?? sources.syslog?.udp;
    sources.syslog = { ...(tcp !== undefined ? { tcp } : {}), ...(udp !== undefined ? { udp } : {}) };
  }
  if (Object.keys(sources).length === 0 && top.pods !== false) sources.pods = { dir: DEFAULT_PODS_DIR };

  const token = pick(flags.token, str(top.token, 'token'));
  const tokenFile = pick(flags.tokenFile, str(top.tokenFile, 'tokenFile'));
  const auditPolicy = pick(flags.auditPolicy, str(top.auditPolicy, 'auditPolicy'));
  const tenant = pick(flags.tenant, str(top.tenant, 'tenant'));
  const ca = pick(flags.certificateAuthority, str(top.certificateAuthority, 'certificateAuthority'));
  const node = pick(flags.node, str(top.node, 'node'));
  const metrics = pick(flags.metrics, str(top.metrics, 'metrics'));
  const minFreeDisk =
    flags.minFreeDisk !== undefined
      ? minFree(flags.minFreeDisk, '--min-free-disk')
      : buffer.minFreeDisk !== undefined
        ? minFree(buffer.minFreeDisk, 'buffer.minFreeDisk')
        : undefined;
  return {
    server,
    ...(token !== undefined ? { token } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(auditPolicy !== undefined ? { auditPolicy } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
    ...(ca !== undefined ? { certificateAuthority: ca } : {}),
    insecureSkipTlsVerify: flags.insecureSkipTlsVerify ?? (insecure as boolean | undefined) ?? false,
    stateDir: pick(flags.stateDir, str(top.stateDir, 'stateDir')) ?? DEFAULT_STATE_DIR,
    ...(node !== undefined ? { node } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
    bufferMaxBytes: sizeOf(
      flags.bufferMaxBytes,
      '--buffer-max-bytes',
      buffer.maxBytes,
      'buffer.maxBytes',
      DEFAULT_BUFFER_MAX_BYTES,
    ),
    ...(minFreeDisk !== undefined ? { minFreeDisk } : {}),
    batchMaxBytes: sizeOf(
      flags.batchMaxBytes,
      '--batch-max-bytes',
      batch.maxBytes,
      'batch.maxBytes',
      DEFAULT_BATCH_MAX_BYTES,
    ),
    batchMaxWaitMs:
      flags.batchMaxWait !== undefined
        ? parseDurationMs(flags.batchMaxWait, '--batch-max-wait')
        : batch.maxWait !== undefined
          ? parseDurationMs(batch.maxWait, 'batch.maxWait')
          : DEFAULT_BATCH_MAX_WAIT_MS,
    sources,
  };
}

/** Reads `flags.config` (if given) and merges it with the flags. */
export async function loadAgentConfig(flags: AgentFlags): Promise<AgentConfig> {
  if (flags.config === undefined) return mergeConfig({}, flags);
  let text: string;
  try {
    text = await readFile(flags.config, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `--config ${flags.config}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`,
    );
  }
  const file = parseConfigFile(text, flags.config);
  try {
    return mergeConfig(file, flags);
  } catch (err) {
    if (err instanceof ConfigError && !err.message.startsWith('--')) {
      throw new ConfigError(`${flags.config}: ${err.message}`);
    }
    throw err;
  }
}
