/**
 * @module De-duplication for the ClickHouse store, as the embedded store does it (store/dedupe.ts):
 * an entry equal in stream, time and line to a stored one is dropped. Each stream keeps intervals
 * of time outside which it has no entry: at first use the stream's greatest stored time (one
 * query for all new streams of an append), then every append's span, this server's and (from the
 * `appends` table) the other servers'. Only entries inside an interval are looked up in ClickHouse:
 * a retried push, an import run again, a stream written out of order. An entry at a stream's
 * greatest time is decided by the lines kept at that time when they are known (dedupe.ts Top).
 */
import type { LogRecord } from '../../model/record.js';
import { type Claims, entryKey, StreamHeads, type Top, topVerdict, Verdict } from '../dedupe.js';
import type { StreamRef } from '../store.js';

export class TenantHeads {
  private readonly tenants = new Map<string, StreamHeads<bigint>>();

  of(tenant: string): StreamHeads<bigint> {
    let h = this.tenants.get(tenant);
    if (!h) {
      h = new StreamHeads<bigint>();
      this.tenants.set(tenant, h);
    }
    return h;
  }

  /** Forgets every stream's lines at its greatest time (entries were or may be deleted). */
  forgetLines(): void {
    for (const h of this.tenants.values()) h.forgetLines();
  }
}

/** What an append's classification found. */
export interface Classified {
  /** records[i] repeats an earlier record of the append or a stored entry: 1. */
  drop: Uint8Array | undefined;
  /** Indexes of records that may equal a stored entry: look them up. */
  readonly check: number[];
}

/**
 * Marks the records that repeat an earlier one of the same append (same stream, time and line),
 * those equal to a line stored at their stream's greatest time, and those inside a stream's
 * intervals (to look up); then covers each stream's span. The lines taken at streams' greatest
 * times go into `claims`, to settle once the append is written or has failed.
 */
export function classify(
  heads: StreamHeads<bigint>,
  records: readonly LogRecord[],
  refs: readonly StreamRef[],
  claims: Claims,
): Classified {
  let drop: Uint8Array | undefined;
  const check: number[] = [];
  // Per stream of the append: its greatest time so far, its records' indexes, (only once a record
  // is not after that greatest time) the keys of its records, the stream's greatest time and lines
  // there (top), and the run's new lines at its own greatest time (atMax).
  const runs = new Map<
    bigint,
    { min: bigint; max: bigint; at: number[]; keys?: Set<string>; top: Top | undefined; atMax: string[] }
  >();
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const id = refs[i]!.id;
    let run = runs.get(id);
    if (!run) {
      run = { min: r.timestamp, max: r.timestamp, at: [i], top: heads.top(id), atMax: [] };
      runs.set(id, run);
    } else {
      if (r.timestamp <= run.max) {
        if (!run.keys) {
          run.keys = new Set();
          for (const k of run.at)
            if (!drop?.[k]) run.keys.add(entryKey(id, records[k]!.timestamp, records[k]!.body));
        }
        const key = entryKey(id, r.timestamp, r.body);
        if (run.keys.has(key)) {
          drop ??= new Uint8Array(records.length);
          drop[i] = 1;
          continue;
        }
        run.keys.add(key);
      } else {
        run.max = r.timestamp;
        run.atMax.length = 0;
        run.keys?.add(entryKey(id, r.timestamp, r.body));
      }
      if (r.timestamp < run.min) run.min = r.timestamp;
      run.at.push(i);
    }
    let verdict = heads.verdict(id, r.timestamp);
    if (verdict === Verdict.Check && run.top !== undefined && r.timestamp === run.top.ts) {
      verdict = topVerdict(run.top, r.body);
      if (verdict === Verdict.Duplicate) {
        drop ??= new Uint8Array(records.length);
        drop[i] = 1;
        continue;
      }
      if (verdict === Verdict.New) heads.take(run.top, r.body, claims);
    }
    if (verdict === Verdict.New && r.timestamp === run.max) run.atMax.push(r.body);
    if (verdict === Verdict.Check) check.push(i);
  }
  for (const [id, run] of runs) heads.advance(id, run.min, run.max, run.atMax, claims);
  return { drop, check };
}
