/**
 * @module The servers writing one ClickHouse database, as each sees the others: every server
 * (writer) inserts a heartbeat row each second into `writers` with its slot of the sequence space
 * (seq-clock.ts) and its safe number; a server closing says so with a last row (safe = GONE).
 * A writer silent for LIVE_MS is taken for dead (kill -9): its slot is free again and it no
 * longer holds others' tails back.
 */
import { type ClickHouseHttp, int, quote } from './http.js';
import { SLOTS } from './seq-clock.js';

/** A writer not heard of for this long is dead. */
export const LIVE_MS = 5000;
/** The safe number of a writer that closed: it holds nobody back. */
export const GONE = (1n << 64n) - 1n;

export interface WriterRow {
  readonly writer: string;
  readonly slot: number;
  readonly safe: bigint;
  readonly at: number;
}

export async function liveWriters(
  http: ClickHouseHttp,
  table: string,
  now = Date.now(),
): Promise<WriterRow[]> {
  // Aliases differ from the columns: 18.16 would read `at` inside argMax as the alias max(at).
  const rows = await http.json<{ w: string; s: number; sf: string; a: string }>({
    query: `SELECT writer AS w, argMax(slot, at) AS s, argMax(safe, at) AS sf, max(at) AS a FROM ${table} WHERE at > ${int(now - LIVE_MS)} GROUP BY writer FORMAT JSONEachRow`,
  });
  return rows
    .map((r) => ({ writer: r.w, slot: Number(r.s), safe: BigInt(r.sf), at: Number(r.a) }))
    .filter((r) => r.safe !== GONE);
}

export async function heartbeat(
  http: ClickHouseHttp,
  table: string,
  row: Omit<WriterRow, 'at'>,
  settings: Record<string, number>,
): Promise<void> {
  await http.exec({
    query: `INSERT INTO ${table} (at, writer, slot, safe) VALUES (${int(Date.now())}, ${quote(row.writer)}, ${int(row.slot)}, ${int(row.safe)})`,
    settings,
  });
}

/**
 * Claims a slot no live writer holds: writes a heartbeat for a free slot, waits for others that
 * started at the same moment to write theirs, and yields to the smaller writer id on a clash.
 * Throws when all SLOTS are held.
 */
export async function claimSlot(
  http: ClickHouseHttp,
  table: string,
  writer: string,
  settings: Record<string, number>,
  /** `safe`: the heartbeat's safe number until the writer knows better; `waitMs`: for others to see it. */
  opts: { readonly safe: bigint; readonly waitMs: number },
): Promise<number> {
  const { safe, waitMs } = opts;
  const taken = new Set<number>();
  for (let attempt = 0; attempt < SLOTS; attempt++) {
    const others = (await liveWriters(http, table)).filter((w) => w.writer !== writer);
    for (const o of others) taken.add(o.slot);
    const free = [...Array(SLOTS).keys()].filter((s) => !taken.has(s));
    if (free.length === 0)
      throw new Error(`all ${SLOTS} writer slots of this ClickHouse database are held by live servers`);
    const slot = free[Math.floor(Math.random() * free.length)]!;
    await heartbeat(http, table, { writer, slot, safe }, settings);
    await new Promise((r) => setTimeout(r, waitMs));
    const clash = (await liveWriters(http, table)).some(
      (w) => w.writer !== writer && w.slot === slot && w.writer < writer,
    );
    if (!clash) return slot;
    taken.add(slot);
  }
  throw new Error('could not claim a writer slot in this ClickHouse database');
}
