/**
 * @module The store's write side: an append's records checked, classified for de-duplication
 * (src/store/duckdb/dedupe.ts), encoded as one write-ahead-log record and written with the sequence
 * numbers they take. Appends that must look entries up go through a lane, one at a time, each after
 * the appends classified before it are written.
 */

import { labelsKey as labelsText } from '../../model/labels-key.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { type Claims, entryKey, type StreamHeads, topVerdict, Verdict, verdictIn } from '../dedupe.js';
import { type AppendResult, InvalidEntryError, MAX_TIMESTAMP_NS } from '../store.js';
import type { StreamCatalog } from './catalog.js';
import { WalLines } from './wal/encode.js';
import type { WriteAheadLog } from './wal/wal.js';

/**
 * DuckDB's CSV reader refuses lines over its maximum line size (sql.ts), and one such line would
 * make the whole segment unreadable, so entries that encode larger are refused up front. The reader
 * also allocates that size per scan, so it is kept small: 4 MiB encoded is 16 times Loki's default
 * line limit.
 */
export const MAX_WAL_LINE_BYTES = 4 << 20;

const WAL_BUFFERS_KEPT = 4;
const WAL_BUFFER_MAX_KEPT = 8 << 20;

export interface AppenderDeps {
  /**
   * Called with each append that stored something, once durable, in the order of its sequence
   * numbers: every append awaits its log write directly, and the log's group commit resolves the
   * writes in the order they were queued, which is the order of their numbers.
   */
  readonly onDurable?: (tenantIndex: number, result: AppendResult) => void;
  readonly catalog: StreamCatalog;
  readonly wal: WriteAheadLog;
  readonly heads: StreamHeads;
  /**
   * The keys (dedupe.ts entryKey) of the stored entries of these streams at these times, between
   * `min` and `max` inclusive.
   */
  readonly storedKeys: (
    tenantIndex: number,
    streams: readonly number[],
    times: readonly bigint[],
    min: bigint,
    max: bigint,
  ) => Promise<Set<string>>;
  /** The active log segment is sealed at this size... */
  readonly segmentBytes: number;
  /** ...by this, called when an append found it that large. */
  readonly onSegmentFull: () => void;
}

export class Appender {
  private nextN = 1n;
  /** The largest sequence number of an acknowledged append. */
  private durableN = 0n;
  /**
   * Buffers of earlier appends, written: reused rather than allocated per push, since a megabyte of
   * new external memory per push made the collector run more often (bench, agent phase).
   */
  private readonly walBuffers: Buffer[] = [];
  /** Appends being written: a de-duplication lookup first waits for them. */
  private readonly inflight = new Set<Promise<void>>();
  /** Appends that must look entries up in the store go one at a time, in order. */
  private lookupLane: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AppenderDeps) {}

  /** Numbering goes on after `lastOnDisk`, the greatest sequence number on disk. */
  resumeAfter(lastOnDisk: bigint): void {
    this.nextN = lastOnDisk + 1n;
    this.durableN = lastOnDisk;
  }

  /** The greatest sequence number of an acknowledged append (0 before any). */
  get lastSeq(): bigint {
    return this.durableN;
  }

  /** The greatest sequence number handed out so far (an upper bound of what is on disk). */
  get lastAssigned(): bigint {
    return this.nextN - 1n;
  }

  /**
   * Appends records; entries equal to stored ones are dropped (dedupe.ts). Every entry is checked
   * and classified at once, in one synchronous step, and, while all are new (the usual case), encoded
   * in the same loop and written straight away. If some may equal stored entries, the append waits
   * its turn in the lookup lane, then for the appends written before it, looks them up, and writes
   * what is new. Lines taken into a stream's set at its greatest time (dedupe.ts Top) are marked
   * stored once the write is durable; if anything fails, those sets become unknown.
   */
  async append(ti: number, records: readonly LogRecord[]): Promise<AppendResult> {
    const count = records.length;
    const ids = new Float64Array(count);
    /** 1 for an entry not to store (a duplicate). */
    let drop: Uint8Array | undefined;
    let checks: number[] | undefined;
    let estimate = 0;
    for (let i = 0; i < count; i++) estimate += records[i]!.body.length + 120;
    /** Encoded as classified, until an entry must be looked up. */
    let lines: WalLines | undefined = new WalLines(ti, estimate, this.walBuffers.pop());
    const first = Number(this.nextN);
    let kept = 0;
    let lastLabels: Labels | undefined;
    let id = -1;
    let stream = 0n;
    let runMin = 0n;
    let runMax = 0n;
    const repeats = new RunRepeats();
    let min = MAX_TIMESTAMP_NS;
    let max = -1n;
    let observed = -1n;
    let intervals = this.deps.heads.intervals(-1);
    const heads = this.deps.heads;
    const claims = heads.claims();
    let top = heads.top(-1);
    /** The run's new lines at its greatest time: the stream's set if that time is past its greatest. */
    const atMax: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const r = records[i]!;
        const ts = r.timestamp;
        if (ts < 0n || ts > MAX_TIMESTAMP_NS) throw timeError(r, 'a timestamp', ts);
        if (r.observedTimestamp !== observed) {
          observed = r.observedTimestamp;
          if (observed < 0n || observed > MAX_TIMESTAMP_NS)
            throw timeError(r, 'an observed timestamp', observed);
        }
        if (r.labels !== lastLabels) {
          lastLabels = r.labels;
          const next = Number(this.deps.catalog.ensureStream(ti, r.labels).id);
          if (next !== id) {
            if (id >= 0) heads.advance(id, runMin, runMax, atMax, claims);
            id = next;
            stream = BigInt(id);
            runMin = ts;
            runMax = ts;
            atMax.length = 0;
            intervals = heads.intervals(id);
            top = heads.top(id);
            repeats.startRun(i);
          }
        }
        ids[i] = id;
        if (repeats.repeated(records, i, runMax, drop)) {
          // The same entry earlier in this append: dropped without a lookup (Loki's ingester drops
          // one equal to the line before; its queriers merge the others).
          drop ??= new Uint8Array(count);
          drop[i] = 1;
          continue;
        }
        if (ts < runMin) runMin = ts;
        else if (ts > runMax) {
          runMax = ts;
          atMax.length = 0;
        }
        let verdict = verdictIn(intervals, ts);
        if (verdict === Verdict.Check && top !== undefined && ts === top.ts) {
          // At the stream's greatest time (whole-second senders): its lines there decide.
          verdict = topVerdict(top, r.body);
          if (verdict === Verdict.Duplicate) {
            drop ??= new Uint8Array(count);
            drop[i] = 1;
            continue;
          }
          if (verdict === Verdict.New) heads.take(top, r.body, claims);
        }
        if (verdict === Verdict.New && ts === runMax) atMax.push(r.body);
        if (verdict === Verdict.Check) {
          checks ??= [];
          checks.push(i);
          if (lines) {
            this.recycle(lines);
            lines = undefined;
          }
        }
        if (!lines) continue;
        if (ts < min) min = ts;
        if (ts > max) max = ts;
        const bytes = lines.add(stream, first + kept, ts, observed, r.attributes, r.body);
        if (bytes > MAX_WAL_LINE_BYTES) throw tooLarge(r, bytes);
        kept++;
      }
      heads.advance(id, runMin, runMax, atMax, claims);
    } catch (err) {
      claims.failed();
      if (lines) this.recycle(lines);
      throw err;
    }
    if (lines) {
      const stored = drop ? records.filter((_, i) => !drop![i]) : records;
      return this.commit(
        ti,
        lines,
        { firstSeq: BigInt(first), stored, duplicates: count - kept },
        min,
        max,
        claims,
      );
    }
    const entries = checks!;
    const job = this.lookupLane.then(async () => {
      // Everything classified before this append is written (or failed) before the lookup: an
      // entry another append is writing (in a stream's set, not yet stored) is found if stored.
      await Promise.allSettled([...this.inflight]);
      try {
        drop = await this.dropStored(ti, records, ids, entries, drop ?? new Uint8Array(count));
      } catch (err) {
        claims.failed();
        throw err;
      }
      return this.write(ti, records, ids, drop, claims);
    });
    this.lookupLane = job.catch(() => undefined);
    return job;
  }

  /** A written (or refused) append's buffer serves a later one. A few, none huge, are kept. */
  private recycle(lines: WalLines): void {
    if (this.walBuffers.length < WAL_BUFFERS_KEPT && lines.buffer.length <= WAL_BUFFER_MAX_KEPT)
      this.walBuffers.push(lines.buffer);
  }

  /** Marks in `drop` the entries of `checks` that the store holds already (or that repeat one of them). */
  private async dropStored(
    ti: number,
    records: readonly LogRecord[],
    ids: Float64Array,
    checks: readonly number[],
    drop: Uint8Array,
  ): Promise<Uint8Array> {
    const streams = new Set<number>();
    const times = new Set<bigint>();
    let min = records[checks[0]!]!.timestamp;
    let max = min;
    for (const i of checks) {
      const ts = records[i]!.timestamp;
      streams.add(ids[i]!);
      times.add(ts);
      if (ts < min) min = ts;
      if (ts > max) max = ts;
    }
    const found = await this.deps.storedKeys(ti, [...streams], [...times], min, max);
    for (const i of checks) {
      const r = records[i]!;
      const key = entryKey(ids[i]!, r.timestamp, r.body);
      if (found.has(key)) drop[i] = 1;
      else found.add(key);
    }
    return drop;
  }

  /**
   * Encodes the records not dropped as one log record and writes it; resolves once durable. The
   * encoding is synchronous, so the sequence numbers taken are consecutive.
   */
  private write(
    ti: number,
    records: readonly LogRecord[],
    ids: Float64Array,
    drop: Uint8Array,
    claims: Claims,
  ): Promise<AppendResult> {
    const firstSeq = this.nextN;
    const first = Number(firstSeq);
    let estimate = 0;
    for (let i = 0; i < records.length; i++) estimate += records[i]!.body.length + 120;
    const lines = new WalLines(ti, estimate, this.walBuffers.pop());
    const stored: LogRecord[] = [];
    let min = MAX_TIMESTAMP_NS;
    let max = -1n;
    try {
      for (let i = 0; i < records.length; i++) {
        if (drop[i]) continue;
        const r = records[i]!;
        if (r.timestamp < min) min = r.timestamp;
        if (r.timestamp > max) max = r.timestamp;
        const bytes = lines.add(
          BigInt(ids[i]!),
          first + stored.length,
          r.timestamp,
          r.observedTimestamp,
          r.attributes,
          r.body,
        );
        if (bytes > MAX_WAL_LINE_BYTES) throw tooLarge(r, bytes);
        stored.push(r);
      }
    } catch (err) {
      claims.failed();
      this.recycle(lines);
      throw err;
    }
    return this.commit(
      ti,
      lines,
      { firstSeq, stored, duplicates: records.length - stored.length },
      min,
      max,
      claims,
    );
  }

  /**
   * Writes an append's encoded lines (`result.stored`, numbered from `result.firstSeq`), taking
   * their sequence numbers; resolves once they are durable, then marks the lines it took stored
   * (or, if the write failed, their sets unknown).
   */
  private async commit(
    ti: number,
    lines: WalLines,
    result: AppendResult,
    min: bigint,
    max: bigint,
    claims: Claims,
  ): Promise<AppendResult> {
    const kept = result.stored.length;
    try {
      if (kept === 0) {
        claims.stored();
        return result;
      }
      const lastN = Number(result.firstSeq) + kept - 1;
      lines.finish(lastN);
      this.nextN = BigInt(lastN) + 1n;
      const written = this.deps.wal.append(lines.bytes, { tenant: ti, min, max, maxN: lastN });
      this.inflight.add(written);
      try {
        await written;
      } finally {
        this.inflight.delete(written);
      }
      claims.stored();
      const lastSeq = BigInt(lastN);
      if (lastSeq > this.durableN) this.durableN = lastSeq;
      this.deps.onDurable?.(ti, result);
      const info = this.deps.wal.activeInfo;
      if (info && info.bytes >= this.deps.segmentBytes) this.deps.onSegmentFull();
      return result;
    } catch (err) {
      // Written or not, what this append took is unknown (looked up from now on, never dropped).
      claims.failed();
      throw err;
    } finally {
      this.recycle(lines);
    }
  }
}

function timeError(r: LogRecord, which: string, ts: bigint): InvalidEntryError {
  return new InvalidEntryError(
    `entry for stream '${labelsText(r.labels)}' has ${which} the store cannot keep (before 1970 or after 2262): ${ts}`,
  );
}

function tooLarge(r: LogRecord, bytes: number): InvalidEntryError {
  return new InvalidEntryError(
    `entry for stream '${labelsText(r.labels)}' is too large to store: ${bytes} bytes encoded, limit ${MAX_WAL_LINE_BYTES}`,
  );
}

/**
 * Entries of one stream's run in an append that repeat an earlier entry of the run. In time order
 * (the usual case) that is one comparison with the lines at the run's greatest time; an entry
 * before that time (the run is out of order) makes it keep every entry's key from then on.
 */
class RunRepeats {
  private start = 0;
  /** The line at the run's greatest time, and any others at that time. */
  private atMax = '';
  private moreAtMax: string[] | undefined;
  private keys: Set<string> | undefined;

  startRun(i: number): void {
    this.start = i;
    this.moreAtMax = undefined;
    this.keys = undefined;
  }

  /** Whether records[i] repeats an earlier entry of the run; `runMax` is the run's greatest time so far. */
  repeated(records: readonly LogRecord[], i: number, runMax: bigint, drop: Uint8Array | undefined): boolean {
    const r = records[i]!;
    if (this.keys === undefined) {
      if (i === this.start || r.timestamp > runMax) {
        this.atMax = r.body;
        this.moreAtMax = undefined;
        return false;
      }
      if (r.timestamp === runMax && (this.moreAtMax?.length ?? 0) < 16) {
        if (r.body === this.atMax || this.moreAtMax?.includes(r.body)) return true;
        if (this.moreAtMax) this.moreAtMax.push(r.body);
        else this.moreAtMax = [r.body];
        return false;
      }
      this.keys = new Set();
      for (let k = this.start; k < i; k++) {
        if (!drop?.[k]) this.keys.add(`${records[k]!.timestamp}\u0000${records[k]!.body}`);
      }
    }
    const key = `${r.timestamp}\u0000${r.body}`;
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    return false;
  }
}
