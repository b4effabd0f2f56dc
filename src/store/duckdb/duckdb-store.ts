/**
 * @module The embedded store: a write-ahead log for durable acknowledgement, Parquet parts
 * (zstd, sorted by stream and time, one directory per tenant and day) for the long term, and DuckDB
 * to query both. Retention deletes whole day directories.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { labelValue } from '../../model/kube-meta.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { dayOf } from '../../model/time.js';
import { labelsKey, StreamCatalog } from '../catalog.js';
import { mkdirDurable, writeFileAtomic } from '../fsync.js';
import { compileMatchers } from '../matchers.js';
import { SnapshotTracker } from '../snapshots.js';
import {
  type AppendResult,
  type BucketCount,
  type ContentHint,
  type EntryQuery,
  InvalidEntryError,
  type LabelMatcher,
  type Selection,
  type Store,
  type StoredEntry,
  type StoreStats,
  type StreamCount,
} from '../store.js';
import { WalLines } from '../wal/encode.js';
import { WriteAheadLog } from '../wal/wal.js';
import { type CompactionPolicy, DEFERRED_PARTS, IngestGauge, mergeParts, pickRun } from './compact.js';
import { convertSegments, NS_PER_DAY } from './convert.js';
import { DuckDbEngine } from './engine.js';
import { type Part, PartSet } from './parts.js';
import { bucketExpr, fileList, readWal, sourceRelation, whereClause } from './sql.js';

export interface DuckDbStoreOptions {
  /** The data directory. */
  readonly dir: string;
  /** Seal the active log segment at this size... */
  readonly segmentBytes?: number;
  /** ...or once it is this old. */
  readonly sealAfterMs?: number;
  /** How often background work (sealing, conversion, compaction) runs. */
  readonly maintenanceIntervalMs?: number;
  readonly compaction?: CompactionPolicy;
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly now?: () => number;
  /** Called when background work fails; the work is retried on the next round. */
  readonly onError?: (err: unknown) => void;
}

/**
 * DuckDB's NDJSON reader refuses lines over its maximum_object_size (sql.ts), and one such line would
 * make the whole segment unreadable, so entries that encode larger are refused up front. The reader
 * also allocates twice that size per scan, so it is kept small: 4 MiB encoded is 16 times Loki's
 * default line limit.
 */
export const MAX_WAL_LINE_BYTES = 4 << 20;

/** Write-ahead-log bytes converted at once (about 60k typical lines). */
const CONVERT_BATCH_BYTES = 16 << 20;
/** While ingest is busy, sealed log segments wait for conversion until there are this many bytes. */
const DEFERRED_LOG_BYTES = 256 << 20;
const DEFAULT_SEGMENT_BYTES = 16 << 20;
const WAL_BUFFERS_KEPT = 4;
const WAL_BUFFER_MAX_KEPT = 8 << 20;
/**
 * Parquet parts are about 10x smaller than the rows they hold, and merging sorts them again, so
 * only small parts merge, into parts of at most `maxMergeBytes` on disk.
 */
/**
 * Parts under 8 MiB merge. With 4 MiB, the parts of two 16 MiB log segments in the denser log
 * format came out just above it and never merged: 12 files instead of 8 for the bench's million
 * lines, and queries that open every part a few percent slower.
 */
const DEFAULT_COMPACTION: CompactionPolicy = { smallBytes: 8 << 20, minRun: 4, maxMergeBytes: 16 << 20 };

interface State {
  convertedThrough: number;
}

export class DuckDbStore implements Store {
  private readonly catalog: StreamCatalog;
  private readonly wal: WriteAheadLog;
  private readonly parts: PartSet;
  private readonly snapshots = new SnapshotTracker();
  private engine: DuckDbEngine | undefined;
  /** Conversion and compaction run on an engine of their own (see engine.ts). */
  private background: DuckDbEngine | undefined;
  private state: State = { convertedThrough: 0 };
  private nextN = 1n;
  /** The largest sequence number of an acknowledged append. */
  private durableN = 0n;
  /**
   * Buffers of earlier appends, written: reused rather than allocated per push, since a megabyte of
   * new external memory per push made the collector run more often (bench, agent phase).
   */
  private readonly walBuffers: Buffer[] = [];
  private convertBatchBytes = CONVERT_BATCH_BYTES;
  /** Whether log bytes come fast: conversion and compaction wait while they do. */
  private readonly ingest = new IngestGauge();
  private lastConvertFailed = false;
  /** Retention floor: nothing before it is read or converted (it may still sit in the log). */
  private retainFrom = 0n;
  private maintenance: Promise<void> = Promise.resolve();
  private sealing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: DuckDbStoreOptions) {
    this.now = options.now ?? Date.now;
    this.catalog = new StreamCatalog(join(options.dir, 'catalog.ndjson'));
    this.wal = new WriteAheadLog(join(options.dir, 'wal'), {
      beforeWrite: () => this.catalog.commit(),
      now: this.now,
    });
    this.parts = new PartSet(join(options.dir, 'parts'));
  }

  private get statePath(): string {
    return join(this.options.dir, 'state.json');
  }

  async open(): Promise<void> {
    await mkdirDurable(this.options.dir);
    const tmpDir = join(this.options.dir, 'tmp');
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true });
    try {
      this.state = JSON.parse(await readFile(this.statePath, 'utf8')) as State;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await this.catalog.open();
    await this.parts.open(this.state.convertedThrough);
    await this.wal.open(this.state.convertedThrough);
    this.engine = await DuckDbEngine.create({
      threads: this.options.threads ?? 2,
      memoryLimit: this.options.memoryLimit ?? '192MB',
      tempDirectory: join(tmpDir, 'query'),
      parquetMetadataCache: true,
    });
    this.background = await DuckDbEngine.create({
      threads: 1,
      memoryLimit: '160MB',
      tempDirectory: join(tmpDir, 'background'),
    });
    this.nextN = (await this.maxN()) + 1n;
    this.durableN = this.nextN - 1n;
    const interval = this.options.maintenanceIntervalMs ?? 1000;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.exclusive(() => this.maintain()).finally(() => {
          if (!this.closed) tick();
        });
      }, interval);
      this.timer.unref();
    };
    tick();
  }

  /** The largest record sequence number on disk, so that numbering resumes after it. */
  private async maxN(): Promise<bigint> {
    const parts = [...this.parts.days()].flatMap((d) => d.parts.map((p) => p.path));
    const wal = this.wal.sealed.map((s) => s.path);
    const branches: string[] = [];
    if (parts.length) branches.push(`SELECT max(n) AS n FROM read_parquet(${fileList(parts)})`);
    if (wal.length) branches.push(`SELECT max(n) AS n FROM ${readWal(wal)}`);
    if (branches.length === 0) return 0n;
    const [[v] = []] = await this.db.all(`SELECT max(n) FROM (${branches.join(' UNION ALL ')})`);
    return typeof v === 'bigint' ? v : 0n;
  }

  private get db(): DuckDbEngine {
    if (!this.engine) throw new Error('store is not open');
    return this.engine;
  }

  private get bg(): DuckDbEngine {
    if (!this.background) throw new Error('store is not open');
    return this.background;
  }

  async append(tenant: string, records: readonly LogRecord[]): Promise<AppendResult | undefined> {
    if (this.closed) throw new Error('store is closed');
    if (records.length === 0) return undefined;
    const firstSeq = this.nextN;
    const ti = this.catalog.ensureTenant(tenant);
    let lastLabels: Labels | undefined;
    let lastStream = 0n;
    let min = records[0]!.timestamp;
    let max = min;
    let estimate = 0;
    for (let i = 0; i < records.length; i++) estimate += records[i]!.body.length + 120;
    const lines = new WalLines(ti, estimate, this.walBuffers.pop());
    let lastSeq: bigint;
    try {
      // Sequence numbers stay far below 2^53: counted as numbers, and taken only once all are encoded.
      const first = Number(firstSeq);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (r.timestamp < 0n) {
          throw new InvalidEntryError(
            `entry for stream '${labelsKey(r.labels)}' has a timestamp before 1970: ${r.timestamp}`,
          );
        }
        if (r.labels !== lastLabels) {
          lastLabels = r.labels;
          lastStream = this.catalog.ensureStream(ti, r.labels).id;
        }
        if (r.timestamp < min) min = r.timestamp;
        if (r.timestamp > max) max = r.timestamp;
        const bytes = lines.add(
          lastStream,
          first + i,
          r.timestamp,
          r.observedTimestamp,
          r.attributes,
          r.body,
        );
        if (bytes > MAX_WAL_LINE_BYTES) {
          throw new InvalidEntryError(
            `entry for stream '${labelsKey(r.labels)}' is too large to store: ${bytes} bytes encoded, limit ${MAX_WAL_LINE_BYTES}`,
          );
        }
      }
      this.nextN += BigInt(records.length);
      lastSeq = this.nextN - 1n;
      await this.wal.append(lines.bytes, { tenant: ti, min, max });
    } finally {
      // Written (or refused): the buffer serves a later append. A few, none huge, are kept.
      if (this.walBuffers.length < WAL_BUFFERS_KEPT && lines.buffer.length <= WAL_BUFFER_MAX_KEPT)
        this.walBuffers.push(lines.buffer);
    }
    if (lastSeq > this.durableN) this.durableN = lastSeq;
    const info = this.wal.activeInfo;
    if (info && info.bytes >= (this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES)) this.kick();
    return { firstSeq };
  }

  lastSeq(): bigint {
    return this.durableN;
  }

  /** Starts background work now instead of at the next tick. */
  private kick(): void {
    void this.exclusive(() => this.maintain());
  }

  /** Runs background jobs one at a time. */
  private exclusive(job: () => Promise<void>): Promise<void> {
    const run = this.maintenance.then(job).catch((err: unknown) => this.options.onError?.(err));
    this.maintenance = run;
    return run;
  }

  /** Seals the active log segment. One seal at a time: readers that need one share it. */
  private seal(): Promise<void> {
    this.sealing ??= this.wal.seal().finally(() => {
      this.sealing = undefined;
    });
    return this.sealing;
  }

  private async maintain(): Promise<void> {
    if (this.closed) return;
    const info = this.wal.activeInfo;
    if (
      info &&
      info.bytes > 0 &&
      (info.bytes >= (this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES) ||
        this.now() - info.createdMs >= (this.options.sealAfterMs ?? 30_000))
    ) {
      await this.seal();
    }
    const busy = this.ingest.busy(this.now(), this.wal.appendedBytes);
    // During a burst the log absorbs it, up to DEFERRED_LOG_BYTES, and is converted after (it is
    // queryable all along): converting took a third of the server's CPU from the ingest itself.
    if (!busy || this.wal.sealedBytes >= DEFERRED_LOG_BYTES) await this.convert();
    await this.compact(busy);
  }

  /** Converts every sealed segment (up to 256 MiB at once) into parts. */
  async convert(): Promise<void> {
    const sealed = this.wal.sealed;
    if (sealed.length === 0) return;
    const batch = [];
    let bytes = 0;
    // A bounded batch keeps DuckDB's sort well inside its memory limit; after a failure the batch
    // halves, down to one segment, so one bad round can never stall conversion for good.
    for (const s of sealed) {
      if (batch.length > 0 && bytes + s.bytes > this.convertBatchBytes) break;
      batch.push(s);
      bytes += s.bytes;
    }
    let written: Part[];
    // Last resort, for a single segment that failed before: convert it unsorted, streaming, in
    // little memory. Its part compresses less well until compaction rewrites it sorted.
    const sorted = !(batch.length === 1 && this.lastConvertFailed);
    try {
      written = await convertSegments(this.bg, this.parts, batch, this.retainFrom, sorted);
      this.convertBatchBytes = Math.min(CONVERT_BATCH_BYTES, this.convertBatchBytes * 2);
      this.lastConvertFailed = false;
    } catch (err) {
      this.convertBatchBytes = Math.max(1, Math.floor(bytes / 2));
      this.lastConvertFailed = true;
      throw err;
    }
    const through = batch[batch.length - 1]!.seq;
    await writeFileAtomic(this.statePath, JSON.stringify({ ...this.state, convertedThrough: through }));
    this.state = { ...this.state, convertedThrough: through };
    // Publish: in one synchronous step readers switch from the segments to the parts.
    for (const p of written) this.parts.add(p);
    const gone = this.wal.release(through);
    await this.snapshots.retire(gone.map((s) => s.path));
  }

  /**
   * Merges small parts (compact.ts). While ingest is busy (`deferred`), a day's parts wait until
   * there are DEFERRED_PARTS of them: merging rewrites every line at zstd level 9, and doing it during
   * a burst took a quarter of the server's CPU from the ingest itself (bench, agent phase).
   */
  private async compact(deferred = false): Promise<void> {
    const policy = this.options.compaction ?? DEFAULT_COMPACTION;
    const today = dayOf(BigInt(this.now()) * 1_000_000n);
    for (const { tenantIndex, day, parts } of [...this.parts.days()]) {
      if (deferred && parts.length < DEFERRED_PARTS) continue;
      const run = pickRun(parts, policy, day < today);
      if (!run) continue;
      const merged = await mergeParts(this.bg, this.parts.dayDir(tenantIndex, day), run);
      this.parts.remove(run);
      this.parts.add(merged);
      await this.snapshots.retire(run.map((p) => p.path));
    }
  }

  /** Waits until everything appended so far is converted and compacted (tests, benchmarks, shutdown). */
  async settle(): Promise<void> {
    await this.exclusive(async () => {
      await this.seal();
      while (this.wal.sealed.length > 0) await this.convert();
      await this.compact();
    });
  }

  private streamIds(ti: number, matchers: readonly LabelMatcher[]): bigint[] | undefined | null {
    const all = this.catalog.streamsOf(ti);
    if (matchers.length === 0) return undefined;
    const match = compileMatchers(matchers);
    const ids = all.filter((s) => match(s.labels)).map((s) => s.id);
    if (ids.length === 0) return null;
    return ids.length === all.length ? undefined : ids;
  }

  /**
   * The hints worth giving DuckDB, each with the selected streams that have its label (entries of
   * those pass the hint whatever their content); a hint that every selected stream passes is dropped.
   */
  private hintConditions(
    ti: number,
    streams: readonly bigint[] | undefined,
    hints: readonly ContentHint[],
  ): { literal: string; streams: bigint[] }[] {
    if (hints.length === 0) return [];
    const selected = streams ? new Set(streams) : undefined;
    const candidates = this.catalog.streamsOf(ti).filter((s) => !selected || selected.has(s.id));
    const out: { literal: string; streams: bigint[] }[] = [];
    for (const h of hints) {
      const having = candidates.filter((s) => labelValue(s.labels, h.label) !== undefined).map((s) => s.id);
      if (having.length < candidates.length) out.push({ literal: h.literal, streams: having });
    }
    return out;
  }

  /**
   * Prepares a read: resolves the tenant and streams, seals the active segment if it may hold
   * matching entries, and takes a snapshot of the files. Returns undefined when nothing can match.
   */
  private async prepare(
    sel: Selection & Partial<Pick<EntryQuery, 'hints' | 'after' | 'afterSeq' | 'direction'>>,
  ): Promise<{ relation: string; where: string; params: DuckDBValue[]; release: () => void } | undefined> {
    const ti = this.catalog.tenantIndex(sel.tenant);
    if (sel.start < this.retainFrom) sel = { ...sel, start: this.retainFrom };
    // A cursor narrows the time range too, so that fewer day partitions are read.
    if (sel.after && sel.direction === 'backward' && sel.after.timestamp + 1n < sel.end) {
      sel = { ...sel, end: sel.after.timestamp + 1n };
    } else if (sel.after && sel.direction !== 'backward' && sel.after.timestamp > sel.start) {
      sel = { ...sel, start: sel.after.timestamp };
    }
    if (ti === undefined || sel.end <= sel.start) return undefined;
    const streams = this.streamIds(ti, sel.matchers);
    if (streams === null) return undefined;
    if (this.sealing) await this.sealing;
    // The active segment is read only once sealed: sealed when it may hold what is asked for (its
    // spans are those of the lines written to it, so a line written after a seal is in the next).
    const pending = this.wal.activeSpan(ti);
    if (pending && pending.max >= sel.start && pending.min < sel.end) await this.seal();
    const release = this.snapshots.acquire();
    const relation = sourceRelation({
      parts: this.parts.select(ti, dayOf(sel.start), dayOf(sel.end - 1n)).map((p) => p.path),
      wal: this.wal.sealed.map((s) => s.path),
      tenantIndex: ti,
    });
    if (!relation) {
      release();
      return undefined;
    }
    const params: string[] = [];
    const hints = this.hintConditions(ti, streams, sel.hints ?? []);
    const where = whereClause(
      {
        start: sel.start,
        end: sel.end,
        lineFilters: sel.lineFilters,
        ...(streams ? { streams } : {}),
        ...(hints.length > 0 ? { hints } : {}),
        ...(sel.after ? { after: sel.after, cursorDirection: sel.direction ?? 'forward' } : {}),
        ...(sel.afterSeq !== undefined ? { afterSeq: sel.afterSeq } : {}),
      },
      params,
    );
    return { relation, where, params, release };
  }

  async *entries(query: EntryQuery): AsyncIterable<StoredEntry[]> {
    const prepared = await this.prepare(query);
    if (!prepared) return;
    const dir = query.direction === 'backward' ? 'DESC' : 'ASC';
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    try {
      const order = query.unordered && query.limit === undefined ? '' : ` ORDER BY ts ${dir}, n ${dir}`;
      const sql = `SELECT stream, n, ts, observed, attrs, body FROM ${prepared.relation} WHERE ${prepared.where}${order}${limit}`;
      for await (const rows of this.db.rows(sql, prepared.params, query.signal)) {
        yield rows.map((row) => this.toEntry(row));
      }
    } finally {
      prepared.release();
    }
  }

  private toEntry(row: DuckDBValue[]): StoredEntry {
    const [stream, n, ts, observed, attrs, body] = row as [bigint, bigint, bigint, bigint, string, string];
    return {
      stream: this.catalog.stream(Number(stream)) ?? { id: stream, labels: {} },
      timestamp: ts,
      observedTimestamp: observed,
      attributes: attrs ? (JSON.parse(attrs) as Record<string, string>) : {},
      body,
      seq: n,
    };
  }

  async count(selection: Selection): Promise<number> {
    const prepared = await this.prepare(selection);
    if (!prepared) return 0;
    try {
      const [[n] = []] = await this.db.all(
        `SELECT count(*) FROM ${prepared.relation} WHERE ${prepared.where}`,
        prepared.params,
        selection.signal,
      );
      return Number(n ?? 0);
    } finally {
      prepared.release();
    }
  }

  async countByStream(selection: Selection): Promise<StreamCount[]> {
    const prepared = await this.prepare(selection);
    if (!prepared) return [];
    try {
      const rows = await this.db.all(
        `SELECT stream, count(*), sum(strlen(body)) FROM ${prepared.relation} WHERE ${prepared.where} GROUP BY stream`,
        prepared.params,
        selection.signal,
      );
      const out: StreamCount[] = [];
      for (const [id, entries, bytes] of rows) {
        const stream = this.catalog.stream(Number(id));
        if (stream) out.push({ stream, entries: Number(entries), bytes: Number(bytes) });
      }
      return out;
    } finally {
      prepared.release();
    }
  }

  async countByBucket(
    selection: Selection,
    origin: bigint,
    width: bigint,
    options: { readonly bytes?: boolean } = {},
  ): Promise<BucketCount[]> {
    if (width <= 0n) throw new RangeError(`bucket width must be positive, got ${width}`);
    // Only timestamps after the origin belong to a bucket.
    if (selection.start <= origin) selection = { ...selection, start: origin + 1n };
    const prepared = await this.prepare(selection);
    if (!prepared) return [];
    try {
      const out: BucketCount[] = [];
      const attrCache = new Map<string, Record<string, string>>();
      for await (const rows of this.db.rows(
        // Without bytes, the body column is read only when a line filter needs it.
        // Plain numbers (DOUBLE, exact below 2^53) rather than BIGINT: no bigint per value in JS.
        `SELECT stream::DOUBLE, attrs, ${bucketExpr(origin, width)}::DOUBLE AS bucket, count(*)::DOUBLE, ${options.bytes === false ? '0::DOUBLE' : 'sum(strlen(body))::DOUBLE'} FROM ${prepared.relation} WHERE ${prepared.where} GROUP BY stream, attrs, bucket`,
        prepared.params,
        selection.signal,
      )) {
        for (const [id, attrs, bucket, entries, bytes] of rows) {
          const stream = this.catalog.stream(id as number);
          if (!stream) continue;
          const text = typeof attrs === 'string' ? attrs : '';
          let attributes = attrCache.get(text);
          if (!attributes) {
            attributes = text ? (JSON.parse(text) as Record<string, string>) : {};
            attrCache.set(text, attributes);
          }
          out.push({
            stream,
            attributes,
            bucket: Number(bucket),
            entries: Number(entries),
            bytes: Number(bytes),
          });
        }
      }
      return out;
    } finally {
      prepared.release();
    }
  }

  async streams(tenant: string, matchers: readonly LabelMatcher[], start: bigint, end: bigint) {
    const prepared = await this.prepare({ tenant, matchers, start, end, lineFilters: [] });
    if (!prepared) return [];
    try {
      const rows = await this.db.all(
        `SELECT DISTINCT stream FROM ${prepared.relation} WHERE ${prepared.where}`,
        prepared.params,
      );
      return rows.map(([id]) => this.catalog.stream(Number(id))).filter((s) => s !== undefined);
    } finally {
      prepared.release();
    }
  }

  async applyRetention(cutoff: bigint): Promise<number> {
    const cutoffDay = dayOf(cutoff);
    const floor = (cutoff / NS_PER_DAY) * NS_PER_DAY;
    if (floor > this.retainFrom) this.retainFrom = floor;
    let removed = 0;
    await this.exclusive(async () => {
      const dirs: string[] = [];
      for (const { tenantIndex, day, parts } of [...this.parts.days()]) {
        if (day >= cutoffDay) continue;
        this.parts.remove(parts);
        dirs.push(this.parts.dayDir(tenantIndex, day));
      }
      removed = dirs.length;
      await this.snapshots.retire(dirs);
    });
    return removed;
  }

  async stats(): Promise<StoreStats> {
    return {
      diskBytes: this.parts.bytes + this.wal.bytes,
      pendingBytes: this.wal.bytes,
      streams: this.catalog.size,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.maintenance;
    await this.wal.close();
    await this.catalog.close();
    this.engine?.close();
    this.engine = undefined;
    this.background?.close();
    this.background = undefined;
  }
}
