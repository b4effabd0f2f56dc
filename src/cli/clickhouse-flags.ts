/**
 * @module The ClickHouse options shared by `serve` and `migrate`: `--clickhouse-url`,
 * `--clickhouse-database`, `--clickhouse-user`, `--clickhouse-password-file`,
 * `--clickhouse-cluster`, and the same under `clickhouse:` in serve's config file (url, database,
 * user, passwordFile, cluster, replicated); a flag wins over the file. The password is only ever
 * read from a file, never taken on the command line (where `ps` would show it).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { StoreBackendConfig } from '../store/open.js';
import { CliError } from './errors.js';

export interface ClickHouseFlags {
  clickhouseUrl?: string;
  clickhouseDatabase?: string;
  clickhouseUser?: string;
  clickhousePasswordFile?: string;
  clickhouseCluster?: string;
}

/** `clickhouse:` of serve's config file. */
export interface ClickHouseFileSettings {
  readonly url?: string;
  readonly database?: string;
  readonly user?: string;
  readonly passwordFile?: string;
  readonly cluster?: string;
  readonly replicated?: boolean;
}

export function addClickHouseFlags(cmd: Command, what: string): Command {
  return cmd
    .option('--clickhouse-url <url>', `${what} ClickHouse's HTTP interface, e.g. http://clickhouse:8123`)
    .option('--clickhouse-database <name>', 'the ClickHouse database (default kjournal)')
    .option('--clickhouse-user <name>', 'the ClickHouse user (default: default)')
    .option('--clickhouse-password-file <file>', "a file holding the ClickHouse user's password")
    .option(
      '--clickhouse-cluster <name>',
      'a cluster of ClickHouse remote_servers: Distributed tables over its shards',
    );
}

const FILE_KEYS = ['url', 'database', 'user', 'passwordFile', 'cluster', 'replicated'];

/** Reads `clickhouse:` of a config file; throws a CliError naming a wrong key. */
export function parseClickHouseSettings(value: unknown, file: string): ClickHouseFileSettings {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new CliError(
      `${file}: clickhouse: must be a mapping (url, database, user, passwordFile, cluster)`,
      2,
    );
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!FILE_KEYS.includes(k))
      throw new CliError(`${file}: clickhouse.${k}: unknown field (known: ${FILE_KEYS.join(', ')})`, 2);
    if (k === 'replicated' ? typeof v[k] !== 'boolean' : typeof v[k] !== 'string')
      throw new CliError(
        `${file}: clickhouse.${k}: must be a ${k === 'replicated' ? 'boolean' : 'string'}`,
        2,
      );
  }
  return v as ClickHouseFileSettings;
}

/** The ClickHouse backend the flags (over the file) describe; undefined when neither names a URL. */
export async function clickhouseBackend(
  flags: ClickHouseFlags,
  file: ClickHouseFileSettings = {},
): Promise<StoreBackendConfig | undefined> {
  const url = flags.clickhouseUrl ?? file.url;
  if (url === undefined) {
    const stray = (
      ['clickhouseDatabase', 'clickhouseUser', 'clickhousePasswordFile', 'clickhouseCluster'] as const
    ).find((k) => flags[k] !== undefined);
    if (stray)
      throw new CliError(
        `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --clickhouse-url`,
        2,
      );
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      `--clickhouse-url must be an http(s) URL such as http://clickhouse:8123, got ${JSON.stringify(url)}`,
      2,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`--clickhouse-url must be http:// or https://, got ${JSON.stringify(url)}`, 2);
  const passwordFile = flags.clickhousePasswordFile ?? file.passwordFile;
  let password: string | undefined;
  if (passwordFile !== undefined) {
    try {
      password = (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(`--clickhouse-password-file: ${(err as Error).message}`, 2);
    }
  }
  const database = flags.clickhouseDatabase ?? file.database;
  const user = flags.clickhouseUser ?? file.user;
  const cluster = flags.clickhouseCluster ?? file.cluster;
  for (const [flag, v] of [
    ['--clickhouse-database', database],
    ['--clickhouse-cluster', cluster],
  ] as const) {
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))
      throw new CliError(
        `${flag} must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(v)}`,
        2,
      );
  }
  return {
    kind: 'clickhouse',
    url,
    ...(database === undefined ? {} : { database }),
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(file.replicated ? { replicated: true } : {}),
  };
}
