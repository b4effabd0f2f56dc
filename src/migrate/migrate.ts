/**
 * @module `kjournal migrate`'s work: copy every entry of one store into another through the Store
 * interface only (so that any backend pair works: embedded → ClickHouse, embedded → embedded),
 * one unit at a time (a tenant's UTC day, in tenant then day order), each unit recorded in the
 * state file once the target acknowledged all of it (src/migrate/state.ts), then compare each
 * day's count in the source and the target.
 *
 * Entries are read in time order and appended in batches, with their stream labels, structured
 * metadata, body and both timestamps; the target assigns its own sequence numbers. A unit that
 * was half-copied when the run stopped is sent again whole: the target acknowledges the entries it
 * already has as duplicates (equal stream, timestamp and line: Store.append) without storing them
 * twice.
 */
import type { LogRecord } from '../model/record.js';
import { MAX_TIMESTAMP_NS, type Selection, type Store } from '../store/store.js';
import { DAY_NS, dayName, dayStart } from './days.js';
import { MigrateError } from './errors.js';
import type { MigrateProgress } from './progress.js';
import type { MigrateState } from './state.js';

/** One tenant's one UTC day, with its count in the source. */
export interface Unit {
  readonly tenant: string;
  /** `YYYY-MM-DD`. */
  readonly day: string;
  /** The day's first nanosecond. */
  readonly start: bigint;
  /** Entries the source holds for it. */
  readonly entries: number;
}

/** A day whose count in the target differs from the source's. */
export interface Mismatch extends Unit {
  readonly target: number;
}

export interface MigrateOptions {
  /** The store copied from, opened; it must list its tenants (Store.tenants). */
  readonly source: Store;
  /** The store copied into, opened. */
  readonly target: Store;
  readonly state: MigrateState;
  readonly progress?: MigrateProgress;
  /** Aborting stops the copy after the batch in flight (MigrateError MIGRATE_INTERRUPTED). */
  readonly signal?: AbortSignal;
  /** At most this many entries per append (default 5,000). */
  readonly batchEntries?: number;
  /** At most about this many body bytes per append (default 8 MiB). */
  readonly batchBytes?: number;
}

export interface MigrateReport {
  readonly units: number;
  readonly entries: number;
  /** Units copied by this run (the others were completed by an earlier one). */
  readonly copiedUnits: number;
  /** Entries this run sent, re-sent duplicates included. */
  readonly sentEntries: number;
  /** Entries the target already had (a unit re-sent after an interruption). */
  readonly duplicates: number;
}

const whole = (tenant: string, start: bigint, end: bigint, signal?: AbortSignal): Selection => ({
  tenant,
  start,
  end,
  matchers: [],
  lineFilters: [],
  ...(signal ? { signal } : {}),
});

/** The first (or last) timestamp the tenant has, or undefined when it has none. */
async function edge(source: Store, tenant: string, direction: 'forward' | 'backward', signal?: AbortSignal) {
  for await (const batch of source.entries({
    ...whole(tenant, 0n, MAX_TIMESTAMP_NS, signal),
    direction,
    limit: 1,
  })) {
    if (batch.length > 0) return batch[0]!.timestamp;
  }
  return undefined;
}

/**
 * The units of the source: for each tenant, each UTC day from its first entry's to its last's that
 * holds entries, with its count.
 */
export async function planUnits(source: Store, signal?: AbortSignal): Promise<Unit[]> {
  if (!source.tenants) {
    throw new MigrateError('MIGRATE_SOURCE', 'the source store cannot list its tenants');
  }
  const units: Unit[] = [];
  for (const tenant of await source.tenants()) {
    const first = await edge(source, tenant, 'forward', signal);
    const last = await edge(source, tenant, 'backward', signal);
    if (first === undefined || last === undefined) continue;
    for (let d = dayStart(first); d <= last; d += DAY_NS) {
      const entries = await source.count(whole(tenant, d, d + DAY_NS, signal));
      if (entries > 0) units.push({ tenant, day: dayName(d), start: d, entries });
    }
  }
  return units;
}

function interrupted(signal: AbortSignal | undefined, done: number, units: number): void {
  if (signal?.aborted) {
    throw new MigrateError(
      'MIGRATE_INTERRUPTED',
      `interrupted: ${done} of ${units} tenant-days copied; run the same command again to resume`,
    );
  }
}

/** Copies one unit; resolves with the entries sent and the duplicates the target reported. */
async function copyUnit(
  o: MigrateOptions,
  unit: Unit,
  onBatch: (n: number) => void,
): Promise<{ sent: number; duplicates: number }> {
  const maxEntries = o.batchEntries ?? 5000;
  const maxBytes = o.batchBytes ?? 8 << 20;
  let batch: LogRecord[] = [];
  let bytes = 0;
  let sent = 0;
  let duplicates = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = await o.target.append(unit.tenant, batch);
    sent += batch.length;
    duplicates += result.duplicates;
    onBatch(batch.length);
    batch = [];
    bytes = 0;
  };
  const query = {
    ...whole(unit.tenant, unit.start, unit.start + DAY_NS, o.signal),
    direction: 'forward' as const,
  };
  try {
    for await (const entries of o.source.entries(query)) {
      for (const e of entries) {
        batch.push({
          timestamp: e.timestamp,
          observedTimestamp: e.observedTimestamp,
          labels: e.stream.labels,
          attributes: e.attributes,
          body: e.body,
        });
        bytes += e.body.length;
        if (batch.length >= maxEntries || bytes >= maxBytes) {
          await flush();
          // Between appends: what was acknowledged stays; the unit is sent again on resume.
          if (o.signal?.aborted) return { sent, duplicates };
        }
      }
    }
    await flush();
  } catch (err) {
    // A read cancelled by the signal ends like an interruption between batches.
    if (o.signal?.aborted) return { sent, duplicates };
    throw err;
  }
  return { sent, duplicates };
}

/** Compares each unit's source count with the target's count over the same day. */
export async function compareCounts(
  units: readonly Unit[],
  target: Store,
  signal?: AbortSignal,
): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  for (const u of units) {
    const n = await target.count(whole(u.tenant, u.start, u.start + DAY_NS, signal));
    if (n !== u.entries) mismatches.push({ ...u, target: n });
  }
  return mismatches;
}

/**
 * Copies every unit the state does not list as completed, then compares the counts of every unit.
 * Throws MigrateError MIGRATE_INTERRUPTED when the signal stopped it (the completed units are
 * kept), MIGRATE_MISMATCH when a day's counts differ.
 */
export async function migrate(o: MigrateOptions): Promise<MigrateReport> {
  const units = await planUnits(o.source, o.signal);
  const total = units.reduce((n, u) => n + u.entries, 0);
  const before = units.filter((u) => o.state.isDone(u.tenant, u.day));
  o.progress?.start(
    total,
    units.length,
    before.reduce((n, u) => n + u.entries, 0),
  );
  let done = before.length;
  let copiedUnits = 0;
  let sentEntries = 0;
  let duplicates = 0;
  try {
    for (const u of units) {
      if (o.state.isDone(u.tenant, u.day)) continue;
      interrupted(o.signal, done, units.length);
      const name = `${u.tenant} ${u.day}`;
      const r = await copyUnit(o, u, (n) => o.progress?.copied(n, name));
      sentEntries += r.sent;
      duplicates += r.duplicates;
      interrupted(o.signal, done, units.length);
      await o.state.complete({ tenant: u.tenant, day: u.day, entries: u.entries });
      done++;
      copiedUnits++;
      o.progress?.unitDone(name, u.entries, done, units.length);
    }
  } finally {
    o.progress?.stop();
  }
  const mismatches = await compareCounts(units, o.target, o.signal);
  if (mismatches.length > 0) {
    const m = mismatches[0]!;
    throw new MigrateError(
      'MIGRATE_MISMATCH',
      `counts differ on ${mismatches.length} tenant-day(s), first: tenant ${m.tenant} on ${m.day}: ` +
        `${m.entries} entries in the source, ${m.target} in the target`,
    );
  }
  return { units: units.length, entries: total, copiedUnits, sentEntries, duplicates };
}
