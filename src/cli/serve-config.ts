/**
 * @module `serve --config FILE` and `--audit-policy`: the server's flows and outputs (the same
 * `outputs`/`flows` sections the agent reads) and its audit policy. Every other server setting is a
 * flag, so any other top-level key is an error that names it.
 */
import { parse as parseYaml } from 'yaml';
import { type AuditPolicy, AuditPolicyError, resolveAuditPolicy } from '../audit/policy/index.js';
import { parseRetentionRules, RetentionConfigError } from '../lifecycle/retention-rules.js';
import {
  loadPipelineConfig,
  PIPELINE_KEYS,
  type PipelineConfig,
  readConfigText,
} from '../pipeline/config.js';
import type { RetentionRule } from '../store/store.js';
import { type ClickHouseFileSettings, parseClickHouseSettings } from './clickhouse-flags.js';
import { CliError } from './errors.js';

const SERVE_KEYS: readonly string[] = [...PIPELINE_KEYS, 'auditPolicy', 'retentionStream', 'clickhouse'];

export interface ServeFileSettings {
  readonly pipeline?: PipelineConfig;
  /** `retentionStream`: per-stream retention rules (lifecycle/retention-rules.ts). */
  readonly retentionStreams: readonly RetentionRule[];
  /** Resolved: a policy, or null for `none`. */
  readonly auditPolicy: AuditPolicy | null;
  /** `clickhouse`: the ClickHouse store's settings (the flags win over them). */
  readonly clickhouse?: ClickHouseFileSettings;
}

/** Reads `--config` (if given) and resolves the audit policy (the flag wins over the file). */
export async function loadServeSettings(
  configFile: string | undefined,
  auditPolicyFlag: string | undefined,
): Promise<ServeFileSettings> {
  let policyFromFile: string | undefined;
  let retentionStreams: RetentionRule[] = [];
  let pipeline: PipelineConfig | undefined;
  let clickhouse: ClickHouseFileSettings | undefined;
  if (configFile !== undefined) {
    let text: string;
    try {
      text = await readConfigText(configFile);
    } catch (err) {
      throw new CliError(`--config ${(err as Error).message}`, 2);
    }
    let top: unknown;
    try {
      top = parseYaml(text);
    } catch {
      top = undefined; // the pipeline loader reports the syntax error with its line
    }
    if (top !== null && typeof top === 'object' && !Array.isArray(top)) {
      for (const key of Object.keys(top)) {
        if (!SERVE_KEYS.includes(key))
          throw new CliError(
            `${configFile}: unknown field ${JSON.stringify(key)} (serve's file holds ${SERVE_KEYS.join(', ')}; other settings are flags)`,
            2,
          );
      }
      const p = (top as Record<string, unknown>).auditPolicy;
      if (p !== undefined && typeof p !== 'string')
        throw new CliError(`${configFile}: auditPolicy: must be a file name or "none"`, 2);
      policyFromFile = p;
      clickhouse = parseClickHouseSettings((top as Record<string, unknown>).clickhouse, configFile);
      try {
        retentionStreams = parseRetentionRules((top as Record<string, unknown>).retentionStream);
      } catch (err) {
        if (err instanceof RetentionConfigError) throw new CliError(`${configFile}: ${err.message}`, 2);
        throw err;
      }
    }
    try {
      pipeline = await loadPipelineConfig(configFile, { text });
    } catch (err) {
      if (err instanceof Error) throw new CliError(err.message, 2);
      throw err;
    }
  }
  let auditPolicy: AuditPolicy | null;
  try {
    auditPolicy = await resolveAuditPolicy(auditPolicyFlag ?? policyFromFile);
  } catch (err) {
    if (err instanceof AuditPolicyError) throw new CliError(err.message, 2);
    throw err;
  }
  return {
    ...(pipeline ? { pipeline } : {}),
    auditPolicy,
    retentionStreams,
    ...(clickhouse ? { clickhouse } : {}),
  };
}
