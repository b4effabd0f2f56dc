/**
 * @module The ClickHouse store's tables, created on start, idempotently, in SQL that Debian's
 * 18.16 accepts and current ClickHouse still does: no Map, DateTime64, codecs or TTL; labels and
 * structured metadata as parallel name/value arrays, nanosecond times as UInt64, partitions by day
 * number (retention drops them); compression (ZSTD) is the server's configuration.
 *
 * On one server every table is a MergeTree. With a cluster (`cluster`), each is a `<name>_local`
 * MergeTree on every node (created `ON CLUSTER`, which needs the cluster's ZooKeeper) and `<name>`
 * a Distributed table over them; entries are sharded by stream, so a stream's entries stay on one
 * shard. With `replicated`, the locals are ReplicatedMergeTree.
 *
 * The schema's version is a row in `schema_version`; a database written by a newer kjournal (a
 * greater version) is refused rather than misread.
 */
import { type ClickHouseHttp, identifier, int } from './http.js';

/** The version of the tables below; bump it with a migration when they change. */
export const SCHEMA_VERSION = 1;

/** A day in nanoseconds: the partition of an entry is intDiv(ts, DAY_NS). */
export const DAY_NS = 86_400_000_000_000n;

export interface SchemaOptions {
  readonly database: string;
  readonly cluster?: string;
  readonly replicated?: boolean;
}

/** A database written by a newer kjournal than this one. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
}

interface TableSpec {
  readonly name: string;
  readonly columns: string;
  readonly order: string;
  readonly partition?: string;
  /** The Distributed table's sharding expression. */
  readonly shard: string;
}

const TABLES: readonly TableSpec[] = [
  {
    name: 'entries',
    columns: `tenant String, stream UInt64, ts UInt64, seq UInt64, observed UInt64,
      attr_names Array(String), attr_values Array(String), body String`,
    order: '(tenant, stream, ts, seq)',
    partition: `intDiv(ts, ${DAY_NS})`,
    shard: 'stream',
  },
  {
    // One row per stream per writer that first wrote it (duplicates are harmless: readers keep one).
    name: 'streams',
    columns:
      'tenant String, stream UInt64, label_names Array(String), label_values Array(String), created UInt64',
    order: '(tenant, stream)',
    shard: 'stream',
  },
  {
    // One row per append: what another server's live tails read to learn of it (seq range, its
    // streams and time span: the entries are then read through the primary key).
    name: 'appends',
    columns: `at UInt64, writer String, tenant String, first UInt64, count UInt32,
      streams Array(UInt64), min_ts UInt64, max_ts UInt64`,
    order: '(at, first)',
    partition: 'intDiv(at, 3600000)',
    shard: 'first',
  },
  {
    // Each server's heartbeat: its slot of the sequence space and the number below which all its
    // appends are visible (clickhouse-seq.ts).
    name: 'writers',
    columns: 'at UInt64, writer String, slot UInt8, safe UInt64',
    order: '(at, writer)',
    partition: 'intDiv(at, 3600000)',
    shard: 'rand()',
  },
  {
    name: 'schema_version',
    columns: 'version UInt32, at UInt64, by String',
    order: 'version',
    shard: 'version',
  },
];

export function tableName(db: string, name: string, local = false, cluster?: string): string {
  return `${db}.${name}${local && cluster ? '_local' : ''}`;
}

function engine(t: TableSpec, o: SchemaOptions): string {
  const partition = t.partition ? ` PARTITION BY ${t.partition}` : '';
  const merge = o.replicated
    ? `ReplicatedMergeTree('/clickhouse/tables/{shard}/${o.database}/${t.name}', '{replica}')`
    : 'MergeTree';
  return `ENGINE = ${merge}${partition} ORDER BY ${t.order}`;
}

/** The statements that create the database and its tables, in order. */
export function createStatements(o: SchemaOptions): string[] {
  const db = identifier(o.database, 'ClickHouse database');
  const on = o.cluster ? ` ON CLUSTER ${identifier(o.cluster, 'ClickHouse cluster')}` : '';
  const out = [`CREATE DATABASE IF NOT EXISTS ${db}${on}`];
  for (const t of TABLES) {
    const local = tableName(db, t.name, true, o.cluster);
    out.push(`CREATE TABLE IF NOT EXISTS ${local}${on} (${t.columns}) ${engine(t, o)}`);
    if (o.cluster) {
      out.push(
        `CREATE TABLE IF NOT EXISTS ${db}.${t.name}${on} AS ${local} ENGINE = Distributed(${o.cluster}, ${db}, ${t.name}_local, ${t.shard})`,
      );
    }
  }
  return out;
}

/** Creates what is missing and checks the version; throws SchemaVersionError for a newer schema. */
export async function ensureSchema(http: ClickHouseHttp, o: SchemaOptions, by: string): Promise<void> {
  for (const sql of createStatements(o)) await http.exec({ query: sql });
  const db = o.database;
  const text = await http.text({
    query: `SELECT max(version) FROM ${db}.schema_version FORMAT TabSeparated`,
  });
  const found = Number(text.trim() || 0);
  if (found > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `ClickHouse database ${db} has kjournal schema version ${found}, newer than this kjournal understands (${SCHEMA_VERSION}): upgrade kjournal`,
    );
  }
  if (found < SCHEMA_VERSION) {
    await http.exec({
      query: `INSERT INTO ${db}.schema_version (version, at, by) VALUES (${int(SCHEMA_VERSION)}, ${int(Date.now())}, '${by.replace(/[^A-Za-z0-9._:-]/g, '')}')`,
      settings: syncInsert(o),
    });
  }
}

/**
 * How long a quorum insert waits for the second replica (ms). ClickHouse's default is 600 s: with a
 * replica just killed (its ZooKeeper session lives on for the session timeout, so it counts as
 * alive), a push hung for ten minutes. Within 10 s (Promtail's and Alloy's push timeout) the push
 * answers 503 instead and is retried; a part that did reach one replica is found by the retry's
 * de-duplication, and replicated when the other comes back.
 */
export const QUORUM_TIMEOUT_MS = 10_000;

/** Seconds a synchronous insert into a Distributed table may wait for its shards. */
export const DISTRIBUTED_TIMEOUT_S = 30;

/** Settings of an insert that is acknowledged only once stored on its shard (and quorum). */

export function syncInsert(o: SchemaOptions): Record<string, number> {
  const s: Record<string, number> = {};
  if (o.cluster) {
    s.insert_distributed_sync = 1;
    // A shard that hangs fails the insert (503, retried) instead of holding the push for ever.
    s.insert_distributed_timeout = DISTRIBUTED_TIMEOUT_S;
  }
  if (o.replicated) {
    s.insert_quorum = 2;
    s.insert_quorum_timeout = QUORUM_TIMEOUT_MS;
  }
  return s;
}
