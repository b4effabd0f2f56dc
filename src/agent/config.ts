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
 * Each source reads its own section and flags (src/sources/<kind>/config.ts, through
 * src/sources/sections.ts). With no source configured at all, the agent reads pod logs from
 * `/var/log/pods` (the common case).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SERVER } from '../client/options.js';
import { type DiskWatermark, parseMinFree } from '../disk/disk-space.js';
import { isObj, type Obj } from '../formats/json-util.js';
import { parseDuration } from '../go/duration.js';
import { PIPELINE_KEYS } from '../pipeline/config.js';
import { ConfigError, section, show, str } from '../sources/config-values.js';
import {
  readSourceSections,
  SOURCE_KINDS,
  type SourceFlags,
  type SourceSections,
} from '../sources/sections.js';
import { sizeValue } from '../util/size.js';
import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_BATCH_MAX_WAIT_MS, DEFAULT_BUFFER_MAX_BYTES } from './agent.js';

export { ConfigError } from '../sources/config-values.js';

export const DEFAULT_STATE_DIR = '/var/lib/kjournal-agent';

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

/** The flags of `kjournal agent`, as commander names them (all optional: the file may say it);
 * the sources' own flags are in src/sources/<kind>/config.ts. */
export interface AgentFlags extends SourceFlags {
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

/** The top-level keys of the agent's file (`kjournal config check --for agent` names them too). */
export const AGENT_FILE_KEYS: readonly string[] = [
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
  ...SOURCE_KINDS,
];

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
  const top = section(file, '', AGENT_FILE_KEYS);
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

  const sources = readSourceSections(top, flags);

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
