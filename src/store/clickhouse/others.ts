/**
 * @module What a server reads of the other servers writing the same database: their appends (the
 * `appends` rows above a cursor and at most their least safe number, writers.ts), and the upkeep
 * of both bookkeeping tables (hourly partitions of heartbeats and appends rows older than
 * KEEP_HOURS are dropped: both are read only for their last minutes).
 */
import { type ClickHouseHttp, int, quote } from './http.js';
import type { RowBinaryReader } from './rowbinary.js';

/** Other servers' appends are read from `appends` rows this recent (ms). */
const APPENDS_WINDOW_MS = 120_000;
const KEEP_HOURS = 2;

/** One other server's append, as its `appends` row says. */
export interface ForeignAppend {
  readonly tenant: string;
  readonly first: bigint;
  readonly count: number;
  readonly streams: bigint[];
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

/** The other writers' appends numbered above `cursor` and at most `safe` (undefined: no bound). */
export function foreignAppends(
  readRows: <T>(sql: string, read: (r: RowBinaryReader) => T) => Promise<T[]>,
  table: string,
  writer: string,
  cursor: bigint,
  safe: bigint | undefined,
  now = Date.now(),
): Promise<ForeignAppend[]> {
  const limit = safe === undefined ? '' : ` AND first <= ${int(safe)}`;
  return readRows(
    `SELECT tenant, first, count, streams, min_ts, max_ts FROM ${table} WHERE at >= ${int(now - APPENDS_WINDOW_MS)} AND writer != ${quote(writer)} AND count > 0 AND first > ${int(cursor)}${limit} ORDER BY first`,
    (r) => ({
      tenant: r.string(),
      first: r.uint64(),
      count: r.uint32(),
      streams: r.uint64s(),
      minTs: r.uint64(),
      maxTs: r.uint64(),
    }),
  );
}

/** Drops the hourly partitions of these (local) tables older than KEEP_HOURS. */
export async function dropOldHours(
  http: ClickHouseHttp,
  database: string,
  localTables: readonly string[],
  onCluster: string,
  now = Date.now(),
): Promise<void> {
  const before = Math.floor(now / 3_600_000) - KEEP_HOURS;
  for (const local of localTables) {
    const parts = await http.text({
      query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${quote(database)} AND table = ${quote(local.slice(local.indexOf('.') + 1))} AND active FORMAT TabSeparated`,
    });
    for (const p of parts.split('\n')) {
      if (/^\d+$/.test(p) && Number(p) < before) {
        await http.exec({ query: `ALTER TABLE ${local}${onCluster} DROP PARTITION ${p}` });
      }
    }
  }
}
