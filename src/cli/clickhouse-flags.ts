/**
 * @module The ClickHouse options shared by `serve` and `migrate`: `--clickhouse-url`,
 * `--clickhouse-database`, `--clickhouse-user`, `--clickhouse-password-file`,
 * `--clickhouse-cluster`; serve's config file has them under `clickhouse:` (serve-file.ts: url,
 * database, user, passwordFile, cluster, and `replicated`, which has no flag). The password is only
 * ever read from a file, never taken on the command line (where `ps` would show it).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { StoreBackendConfig } from '../store/open.js';
import { CliError } from './errors.js';
import { httpUrl, identifier, ValueError, type ValueRule } from './flag-values.js';

export interface ClickHouseFlags {
  clickhouseUrl?: string;
  clickhouseDatabase?: string;
  clickhouseUser?: string;
  clickhousePasswordFile?: string;
  clickhouseCluster?: string;
}

/** What serve's config file says of ClickHouse that no flag does. */
export interface ClickHouseFileSettings {
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

function checked(flag: string, rule: ValueRule<string>, value: string): string {
  try {
    return rule(value);
  } catch (err) {
    if (err instanceof ValueError) throw new CliError(`${flag} ${err.message}`, 2);
    throw err;
  }
}

/**
 * The ClickHouse backend the flags describe (serve's file values are flags by then:
 * serve-file.ts); undefined when no URL is named.
 */
export async function clickhouseBackend(
  flags: ClickHouseFlags,
  file: ClickHouseFileSettings = {},
): Promise<StoreBackendConfig | undefined> {
  const url = flags.clickhouseUrl;
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
  checked('--clickhouse-url', httpUrl, url);
  const passwordFile = flags.clickhousePasswordFile;
  let password: string | undefined;
  if (passwordFile !== undefined) {
    try {
      password = (await readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(`--clickhouse-password-file: ${(err as Error).message}`, 2);
    }
  }
  const database = flags.clickhouseDatabase;
  const user = flags.clickhouseUser;
  const cluster = flags.clickhouseCluster;
  if (database !== undefined) checked('--clickhouse-database', identifier, database);
  if (cluster !== undefined) checked('--clickhouse-cluster', identifier, cluster);
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
