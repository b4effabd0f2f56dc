/**
 * @module Removing entries from ClickHouse: retention (whole days dropped as partitions when every
 * stream of every tenant expired there, else the expired streams' rows deleted by a mutation) and
 * purges of deletion requests. Mutations run in the background in ClickHouse (18.16 has no
 * `mutations_sync`), so each one is waited for: until no row meets its condition.
 */
import type { StreamRef } from '../store.js';
import { int, quote } from './http.js';
import { DAY_NS } from './schema.js';
import { rowSetSql } from './sql.js';

/** The entries table as removal needs it. */
export interface EntriesTable {
  /** `ALTER TABLE` of the entries (every shard's local table, ON CLUSTER, with a cluster). */
  alter(action: string): Promise<void>;
  /** How many entries meet `condition`. */
  count(condition: string): Promise<number>;
  /** The days (ts / DAY_NS) that hold entries before `before`, ascending. */
  daysBefore(before: bigint): Promise<bigint[]>;
}

const MUTATION_WAIT_MS = 300_000;

/** Runs a mutation and waits until no row meets `gone`. */
export async function mutate(t: EntriesTable, action: string, gone: string): Promise<void> {
  await t.alter(action);
  const deadline = Date.now() + MUTATION_WAIT_MS;
  while ((await t.count(gone)) > 0) {
    if (Date.now() > deadline)
      throw new Error(
        `ClickHouse did not finish ${action.slice(0, 80)}… within ${MUTATION_WAIT_MS / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Removes what the cutoffs (per tenant, per stream: store/retention.ts) expire; `everyStream`
 * says whether every stream of every tenant has a cutoff (none is kept for ever). Returns how many
 * days were dropped or rewritten.
 */
export async function expire(
  t: EntriesTable,
  byTenant: ReadonlyMap<string, ReadonlyMap<StreamRef, { cutoff: bigint }>>,
  everyStream: boolean,
): Promise<number> {
  let maxCutoff = 0n;
  let minCutoff: bigint | undefined;
  for (const cutoffs of byTenant.values()) {
    for (const { cutoff } of cutoffs.values()) {
      if (cutoff > maxCutoff) maxCutoff = cutoff;
      if (minCutoff === undefined || cutoff < minCutoff) minCutoff = cutoff;
    }
  }
  if (maxCutoff <= 0n) return 0;
  let touched = 0;
  for (const day of await t.daysBefore(maxCutoff)) {
    const dayStart = day * DAY_NS;
    if (everyStream && minCutoff !== undefined && minCutoff >= dayStart + DAY_NS) {
      await t.alter(`DROP PARTITION ${int(day)}`);
      touched++;
      continue;
    }
    const conditions: string[] = [];
    for (const [tenant, cutoffs] of byTenant) {
      const byCutoff = new Map<bigint, bigint[]>();
      for (const [stream, { cutoff }] of cutoffs) {
        if (cutoff <= dayStart) continue;
        const list = byCutoff.get(cutoff) ?? [];
        list.push(stream.id);
        byCutoff.set(cutoff, list);
      }
      for (const [cutoff, streams] of byCutoff) {
        conditions.push(`(tenant = ${quote(tenant)} AND ${rowSetSql({ streams, through: cutoff - 1n })})`);
      }
    }
    if (conditions.length === 0) continue;
    const condition = `intDiv(ts, ${DAY_NS}) = ${int(day)} AND (${conditions.join(' OR ')})`;
    if ((await t.count(condition)) === 0) continue;
    touched++;
    await mutate(t, `DELETE WHERE ${condition}`, condition);
  }
  return touched;
}
