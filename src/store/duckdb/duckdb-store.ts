/**
 * @module The embedded store: a write-ahead log for durable acknowledgement, Parquet parts
 * (zstd, sorted by stream and time, one directory per tenant and day) for the long term, and DuckDB
 * to query both. Retention deletes whole day directories.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBValue, listValue } from '@duckdb/node-api';
import { mkdirDurable } from '../../disk/fsync.js';
import { labelValue } from '../../model/kube-meta.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { dayOf } from '../../model/time.js';
import { defaultLogger, type LineLog } from '../../util/log.js';
import { getOrCreate } from '../../util/maps.js';
import { entryKey, newDeletion, StreamHeads } from '../dedupe.js';
import { compileMatchers } from '../matchers.js';
import { streamCutoffs } from '../retention.js';
import {
  type AppendedEntries,
  type AppendResult,
  type BucketCount,
  bucketSelection,
  type ContentHint,
  DamagedDataError,
  type Deletion,
  type EntryQuery,
  type LabelMatcher,
  longestRetention,
  MAX_TIMESTAMP_NS,
  type RetentionPolicy,
  type RetentionReport,
  type Selection,
  type Store,
  type StoredEntry,
  StoreMemoryError,
  type StoreStats,
  type StreamCount,
  type StreamRef,
} from '../store.js';
import { Appender } from './appender.js';
import { StreamCatalog } from './catalog.js';
import { type CompactionPolicy, DEFERRED_PARTS, IngestGauge, mergeParts, pickRun } from './compact.js';
import { convertSegments, NS_PER_DAY } from './convert.js';
import { DamageFinder } from './damage.js';
import { DuckDbEngine } from './engine.js';
import { FORMAT_FILE, openFormat } from './format.js';
import { type Part, PartSet } from './parts.js';
import { rewritePart } from './rewrite.js';
import { SnapshotTracker } from './snapshots.js';
import {
  binder,
  bucketExpr,
  fileList,
  type RowSet,
  readFilesRelation,
  readWal,
  rowSetSql,
  whereClause,
} from './sql.js';
import { readState, type StoreState, writeState } from './state.js';
import { salvageSegment } from './wal/salvage.js';
import { type Segment, WriteAheadLog } from './wal/wal.js';

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
  /** Warnings: damaged or torn files found, segments set aside. */
  readonly log?: LineLog;
}

/**
 * The embedded backend's own options, as `openStore` takes them (src/store/open.ts): DuckDB's
 * memory limit and threads, the write-ahead log's segment size and age, background work.
 */
export type DuckDbBackendConfig = { readonly kind: 'duckdb' } & Omit<
  DuckDbStoreOptions,
  'dir' | 'log' | 'onError'
>;

/** Write-ahead-log bytes converted at once (about 60k typical lines). */
const CONVERT_BATCH_BYTES = 16 << 20;
/** While ingest is busy, sealed log segments wait for conversion until there are this many bytes. */
const DEFERRED_LOG_BYTES = 256 << 20;
const DEFAULT_SEGMENT_BYTES = 16 << 20;
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

/** A read prepared by `prepare`: its relation, conditions and snapshot. */
interface Prepared {
  readonly relation: string;
  readonly where: string;
  readonly params: DuckDBValue[];
  /** The parts it reads, for finding a damaged one when the read fails. */
  readonly parts: readonly string[];
  readonly release: () => void;
}

/** What `prepare` takes beyond a selection. */
type PrepareOptions = Selection &
  Partial<Pick<EntryQuery, 'hints' | 'after' | 'afterSeq' | 'direction' | 'streamFilter'>> & {
    /** Exactly these streams (the matchers are then ignored). */
    readonly streamIds?: readonly bigint[];
    /** Leave damaged parts out instead of failing (de-duplication lookups only). */
    readonly skipDamaged?: boolean;
  };

export class DuckDbStore implements Store {
  private readonly catalog: StreamCatalog;
  private readonly wal: WriteAheadLog;
  private readonly parts: PartSet;
  private readonly snapshots = new SnapshotTracker();
  private engine: DuckDbEngine | undefined;
  /** Conversion and compaction run on an engine of their own (see engine.ts). */
  private background: DuckDbEngine | undefined;
  private state: StoreState = { convertedThrough: 0 };
  /** The write side: classification, encoding, sequence numbers (appender.ts). */
  private readonly appender: Appender;
  private convertBatchBytes = CONVERT_BATCH_BYTES;
  /** Whether log bytes come fast: conversion and compaction wait while they do. */
  private readonly ingest = new IngestGauge();
  private lastConvertFailed = false;
  /** Retention floor: nothing before it is read or converted (it may still sit in the log). */
  private retainFrom = 0n;
  /** Deletions in force: every read leaves out what they select (setDeletions). */
  private deletions: readonly Deletion[] = [];
  private maintenance: Promise<void> = Promise.resolve();
  /** What each stream certainly does not hold yet (de-duplication without lookups). */
  private readonly heads = new StreamHeads();
  /** Finds the damaged part behind a failed read (damage.ts). */
  private readonly damage: DamageFinder;
  private quarantined = 0;
  private readonly log: LineLog;
  private sealing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  /** Listeners of watchAppends. */
  private readonly appendWatchers = new Set<(appended: AppendedEntries) => void>();

  constructor(private readonly options: DuckDbStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? defaultLogger().line('warn');
    this.catalog = new StreamCatalog(join(options.dir, 'catalog.ndjson'));
    this.wal = new WriteAheadLog(join(options.dir, 'wal'), {
      beforeWrite: () => this.catalog.commit(),
      now: this.now,
      quarantineDir: this.quarantineDir,
      onProblem: (problem) => {
        if (problem.kind === 'damaged') {
          this.quarantined++;
          // Lines kept as stored at streams' greatest times may have been in it (dedupe.ts).
          this.heads.forgetLines();
        }
        this.log(`store: ${problem.message}`);
      },
    });
    this.parts = new PartSet(join(options.dir, 'parts'));
    // It logs when it marks a part damaged: lines kept as stored may be in it (dedupe.ts).
    this.damage = new DamageFinder(
      this.parts,
      () => this.bg,
      (line) => {
        this.heads.forgetLines();
        this.log(line);
      },
    );
    this.appender = new Appender({
      catalog: this.catalog,
      wal: this.wal,
      heads: this.heads,
      storedKeys: (ti, streams, times, min, max) => this.storedKeys(ti, streams, times, min, max),
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      onSegmentFull: () => this.kick(),
      onDurable: (ti, result) => this.announce(ti, result),
    });
  }

  /** Where damaged or unconvertible files go: out of every read, kept for inspection. */
  private get quarantineDir(): string {
    return join(this.options.dir, 'quarantine');
  }

  async open(): Promise<void> {
    await mkdirDurable(this.options.dir);
    // Before anything is read or written: a directory of a newer format is refused untouched.
    const format = await openFormat(this.options.dir);
    if (format.notWritten !== undefined) {
      this.log(`store: cannot write ${FORMAT_FILE} (${format.notWritten}): the next start writes it`);
    } else if (format.written === 'unversioned') {
      this.log(
        `store: the data directory had no ${FORMAT_FILE} file (written before format files): it is format ${format.format}, and now says so`,
        'info',
      );
    }
    const tmpDir = join(this.options.dir, 'tmp');
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true });
    const read = await readState(this.options.dir, this.quarantineDir, this.log);
    this.state = read.state;
    if (read.quarantined) this.quarantined++;
    const catalog = await this.catalog.open();
    if (catalog.damaged.length > 0) {
      this.log(
        `store: catalog.ndjson: ${catalog.damaged.join(', ')} failed their check and were skipped; ` +
          `${this.catalog.lost} stream(s) are lost: their entries are left out of every answer`,
      );
    }
    await this.parts.open(this.state.convertedThrough);
    for (const { parts } of this.parts.days()) {
      for (const p of parts) {
        const damage = this.parts.damage(p.path);
        if (damage)
          this.log(
            `store: part ${this.parts.name(p.path)} is damaged (${damage}): reads that need it fail until \`kjournal check --repair\``,
          );
      }
    }
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
    // Heads first: a log segment DuckDB cannot read is salvaged there, before anything reads it.
    await this.loadHeads();
    this.appender.resumeAfter(await this.maxN());
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

  /**
   * The largest record sequence number on disk, so that numbering resumes after it: from the state
   * file and the log's trailers. Only a data directory of an earlier version is read through
   * DuckDB, file by file, so that one damaged file cannot stop the start.
   */
  private async maxN(): Promise<bigint> {
    let max = 0n;
    const older: string[] = [];
    if (this.state.maxSeq !== undefined) max = BigInt(this.state.maxSeq);
    else older.push(...this.healthyParts());
    for (const s of this.wal.sealed) {
      if (s.maxN === undefined) older.push(s.path);
      else if (BigInt(s.maxN) > max) max = BigInt(s.maxN);
    }
    for (const path of older) {
      const source = path.endsWith('.parquet') ? `read_parquet(${fileList([path])})` : readWal([path]);
      try {
        const [[v] = []] = await this.db.all(`SELECT max(n) FROM ${source}`);
        if (typeof v === 'bigint' && v > max) max = v;
      } catch (err) {
        this.reportUnreadable(path, err);
      }
    }
    return max;
  }

  /**
   * Loads each stream's greatest time (dedupe.ts): from the state file for what was converted, and
   * from the log for the rest, one query per segment. A segment DuckDB cannot read is salvaged at
   * once (setAside): left in place, it would fail every read of the log until conversion got to it.
   */
  private async loadHeads(): Promise<void> {
    const load = async (source: string, path: string): Promise<boolean> => {
      try {
        for (const [id, ts] of await this.db.all(source)) {
          if (typeof ts === 'bigint') this.heads.load(Number(id), ts);
        }
        return true;
      } catch (err) {
        if (path.endsWith('.parquet')) this.reportUnreadable(path, err);
        else {
          const segment = this.wal.sealed.find((seg) => seg.path === path);
          if (segment) await this.setAside(segment, err);
        }
        return false;
      }
    };
    if (this.state.heads) {
      for (const [id, ts] of Object.entries(this.state.heads)) this.heads.load(Number(id), BigInt(ts));
    } else {
      for (const path of this.healthyParts()) {
        await load(`SELECT stream, max(ts) FROM read_parquet(${fileList([path])}) GROUP BY stream`, path);
      }
    }
    for (const s of [...this.wal.sealed]) {
      const source = `SELECT s, max(t) FROM ${readWal([s.path])} WHERE g >= 0 GROUP BY s`;
      if (!(await load(source, s.path)) && this.wal.sealed.some((seg) => seg.seq === s.seq)) {
        await load(source, s.path); // what salvage kept
      }
    }
  }

  private healthyParts(): string[] {
    return [...this.parts.days()].flatMap((d) =>
      d.parts.filter((p) => this.parts.damage(p.path) === undefined).map((p) => p.path),
    );
  }

  /** A file that could not be read at start: a part is marked damaged; a log segment is left to conversion. */
  private reportUnreadable(path: string, err: unknown): void {
    const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
    if (path.endsWith('.parquet')) {
      this.damage.report(path, reason);
    } else {
      this.log(
        `store: write-ahead log segment ${path.split('/').pop()} cannot be read (${reason}); conversion will salvage it`,
      );
    }
  }

  private get db(): DuckDbEngine {
    if (!this.engine) throw new Error('store is not open');
    return this.engine;
  }

  private get bg(): DuckDbEngine {
    if (!this.background) throw new Error('store is not open');
    return this.background;
  }

  async append(tenant: string, records: readonly LogRecord[]): Promise<AppendResult> {
    if (this.closed) throw new Error('store is closed');
    if (records.length === 0) return { firstSeq: this.appender.lastAssigned + 1n, stored: [], duplicates: 0 };
    return this.appender.append(this.catalog.ensureTenant(tenant), records);
  }

  /**
   * This process is the store's only writer (the data directory's lock), so its own appends are
   * all there is to announce: once durable, before the append resolves, in the order of their
   * sequence numbers (the appender's onDurable).
   */
  watchAppends(listener: (appended: AppendedEntries) => void): () => void {
    this.appendWatchers.add(listener);
    return () => {
      this.appendWatchers.delete(listener);
    };
  }

  private announce(ti: number, result: AppendResult): void {
    if (this.appendWatchers.size === 0) return;
    const tenant = this.catalog.tenantName(ti);
    if (tenant === undefined) return;
    const entries: StoredEntry[] = new Array(result.stored.length);
    let labels: Labels | undefined;
    let stream: StreamRef | undefined;
    for (let i = 0; i < result.stored.length; i++) {
      const r = result.stored[i]!;
      if (r.labels !== labels) {
        labels = r.labels;
        stream = this.catalog.ensureStream(ti, r.labels);
      }
      entries[i] = {
        stream: stream!,
        timestamp: r.timestamp,
        observedTimestamp: r.observedTimestamp,
        attributes: r.attributes,
        body: r.body,
        seq: result.firstSeq + BigInt(i),
      };
    }
    const appended: AppendedEntries = { tenant, entries };
    for (const listener of [...this.appendWatchers]) {
      try {
        listener(appended);
      } catch {
        // A listener's failure must not fail the append, which is durable already.
      }
    }
  }

  /** The keys of the stored entries a de-duplication lookup asks for (appender.ts). */
  private async storedKeys(
    ti: number,
    streams: readonly number[],
    times: readonly bigint[],
    min: bigint,
    max: bigint,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    const prepared = await this.prepare({
      tenant: '',
      tenantIndex: ti,
      start: min,
      end: max + 1n,
      matchers: [],
      lineFilters: [],
      streamIds: streams.map((s) => BigInt(s)),
      skipDamaged: true,
    });
    if (!prepared) return found;
    try {
      prepared.params.push(listValue([...times]));
      const rows = await this.db.all(
        `SELECT stream, ts, body FROM ${prepared.relation} WHERE ${prepared.where} AND ts IN (SELECT unnest($${prepared.params.length}::BIGINT[]))`,
        prepared.params,
      );
      for (const [stream, ts, body] of rows)
        found.add(entryKey(stream as bigint, ts as bigint, body as string));
    } finally {
      prepared.release();
    }
    return found;
  }

  lastSeq(): bigint {
    return this.appender.lastSeq;
  }

  /** Starts background work now instead of at the next tick. */
  private kick(): void {
    void this.exclusive(() => this.maintain());
  }

  /**
   * Runs background jobs one at a time. A failure goes to `onError` (background work is retried at
   * the next round) or, with `rethrow`, to the caller (work someone waits for).
   */
  private exclusive(job: () => Promise<void>, options: { rethrow?: boolean } = {}): Promise<void> {
    const run = this.maintenance.then(job);
    this.maintenance = run.catch((err: unknown) => {
      if (!options.rethrow) this.options.onError?.(err);
    });
    return options.rethrow ? run : this.maintenance;
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
      if (batch.length === 1 && !sorted) {
        // Even alone and unsorted it fails: salvage what can be read, set the rest aside.
        await this.setAside(batch[0]!, err);
        return;
      }
      this.convertBatchBytes = Math.max(1, Math.floor(bytes / 2));
      this.lastConvertFailed = true;
      throw err;
    }
    const through = batch[batch.length - 1]!.seq;
    // The sequence numbers and stream heads handed out so far: upper bounds of what the parts hold.
    const state: StoreState = {
      convertedThrough: through,
      maxSeq: String(this.appender.lastAssigned),
      heads: this.heads.snapshot(),
    };
    await writeState(this.options.dir, state);
    this.state = state;
    // Publish: in one synchronous step readers switch from the segments to the parts.
    for (const p of written) this.parts.add(p);
    const gone = this.wal.release(through);
    await this.snapshots.retire(gone.map((s) => s.path));
  }

  /**
   * A sealed segment that DuckDB cannot convert, even alone and unsorted (a line it cannot parse):
   * its well-formed lines stay in the log, the original goes to the quarantine directory, and
   * conversion goes on with the next. Before, such a segment failed every round for ever and every
   * read of the log with it.
   */
  private async setAside(segment: Segment, err: unknown): Promise<void> {
    const reason = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
    const result = await salvageSegment(segment.path, this.quarantineDir);
    this.quarantined++;
    this.heads.forgetLines();
    this.wal.replaceSealed(segment.seq, result.bytes === 0 ? undefined : result.bytes);
    this.lastConvertFailed = false;
    this.convertBatchBytes = CONVERT_BATCH_BYTES;
    const name = segment.path.split('/').pop();
    const aside = `quarantine/${result.quarantined.split('/').pop()}`;
    this.log(
      result.kept > 0
        ? `store: write-ahead log segment ${name} could not be converted (${reason}); ${result.dropped} malformed line(s) set aside (${result.reasons.join('; ')}), ${result.kept} kept; the original is in ${aside}`
        : `store: write-ahead log segment ${name} could not be converted (${reason}); it was set aside whole (${result.dropped} line(s)) in ${aside}`,
    );
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
      // A damaged part is never merged, and parts on either side of it are not merged across it
      // (a merged part's range would contain it, and recovery would take it for a merge's input).
      const run = this.healthyRuns(parts)
        .map((healthy) => pickRun(healthy, policy, day < today))
        .find((r) => r !== undefined);
      if (!run) continue;
      let merged: Part;
      try {
        merged = await mergeParts(this.bg, this.parts.dayDir(tenantIndex, day), run);
      } catch (err) {
        await this.damage.check(
          run.map((p) => p.path),
          'it is left out of compaction, and reads that need it fail',
        );
        throw err;
      }
      this.parts.remove(run);
      this.parts.add(merged);
      await this.snapshots.retire(run.map((p) => p.path));
    }
  }

  /** A day's parts split at its damaged ones. */
  private healthyRuns(parts: readonly Part[]): Part[][] {
    const runs: Part[][] = [[]];
    for (const p of parts) {
      if (this.parts.damage(p.path) === undefined) runs[runs.length - 1]!.push(p);
      else runs.push([]);
    }
    return runs.filter((r) => r.length > 0);
  }

  /** Waits until everything appended so far is converted and compacted (tests, benchmarks, shutdown). */
  async settle(): Promise<void> {
    await this.exclusive(async () => {
      await this.seal();
      while (this.wal.sealed.length > 0) await this.convert();
      await this.compact();
    });
  }

  private streamIds(
    ti: number,
    matchers: readonly LabelMatcher[],
    filter?: (labels: Labels) => boolean,
  ): bigint[] | undefined | null {
    const all = this.catalog.streamsOf(ti);
    // With lost streams (a damaged catalog line), "every stream" is the list of known ones.
    if (matchers.length === 0 && !filter && this.catalog.lost === 0) return undefined;
    const match = compileMatchers(matchers);
    const ids = all.filter((s) => match(s.labels) && (!filter || filter(s.labels))).map((s) => s.id);
    if (ids.length === 0) return null;
    return ids.length === all.length && this.catalog.lost === 0 ? undefined : ids;
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
      const names = [h.label, ...(h.orLabels ?? [])];
      const having = candidates
        .filter((s) => names.some((n) => labelValue(s.labels, n) !== undefined))
        .map((s) => s.id);
      if (having.length < candidates.length) out.push({ literal: h.literal, streams: having });
    }
    return out;
  }

  /**
   * Prepares a read: resolves the tenant and streams, seals the active segment if it may hold
   * matching entries, and takes a snapshot of the files. Returns undefined when nothing can match.
   */
  private async prepare(
    sel: PrepareOptions & { readonly tenantIndex?: number },
  ): Promise<Prepared | undefined> {
    const ti = sel.tenantIndex ?? this.catalog.tenantIndex(sel.tenant);
    if (sel.start < this.retainFrom) sel = { ...sel, start: this.retainFrom };
    // A cursor narrows the time range too, so that fewer day partitions are read.
    if (sel.after && sel.direction === 'backward' && sel.after.timestamp + 1n < sel.end) {
      sel = { ...sel, end: sel.after.timestamp + 1n };
    } else if (sel.after && sel.direction !== 'backward' && sel.after.timestamp > sel.start) {
      sel = { ...sel, start: sel.after.timestamp };
    }
    if (ti === undefined || sel.end <= sel.start) return undefined;
    const streams = sel.streamIds ? [...sel.streamIds] : this.streamIds(ti, sel.matchers, sel.streamFilter);
    if (streams === null) return undefined;
    if (this.sealing) await this.sealing;
    // The active segment is read only once sealed: sealed when it may hold what is asked for (its
    // spans are those of the lines written to it, so a line written after a seal is in the next).
    const pending = this.wal.activeSpan(ti);
    if (pending && pending.max >= sel.start && pending.min < sel.end) await this.seal();
    const release = this.snapshots.acquire();
    let parts = this.parts.select(ti, dayOf(sel.start), dayOf(sel.end - 1n)).map((p) => p.path);
    const damaged = parts.filter((p) => this.parts.damage(p) !== undefined);
    if (damaged.length > 0) {
      if (!sel.skipDamaged) {
        release();
        throw new DamagedDataError(
          damaged.map((p) => `part ${this.parts.name(p)}`),
          damaged.map((p) => this.parts.damage(p)).join('; '),
        );
      }
      parts = parts.filter((p) => !damaged.includes(p));
    }
    const relation = readFilesRelation({
      parts,
      wal: this.wal.sealed.filter((seg) => mayHold(seg, ti, sel.start, sel.end)).map((seg) => seg.path),
      tenantIndex: ti,
    });
    if (!relation) {
      release();
      return undefined;
    }
    const params: DuckDBValue[] = [];
    const hints = this.hintConditions(ti, streams, sel.hints ?? []);
    const excluded = this.deletedRows(ti, sel.start, sel.end);
    const where = whereClause(
      {
        start: sel.start,
        end: sel.end,
        lineFilters: sel.lineFilters,
        ...(excluded.length > 0 ? { excluded } : {}),
        ...(streams ? { streams } : {}),
        ...(hints.length > 0 ? { hints } : {}),
        ...(sel.after ? { after: sel.after, cursorDirection: sel.direction ?? 'forward' } : {}),
        ...(sel.afterSeq !== undefined ? { afterSeq: sel.afterSeq } : {}),
      },
      params,
    );
    return { relation, where, params, parts, release };
  }

  /** The rows of tenant `ti` in [start, end) that deletions in force select. */
  private deletedRows(ti: number, start: bigint, end: bigint): RowSet[] {
    const out: RowSet[] = [];
    for (const d of this.deletions) {
      if (d.end < start || d.start >= end || this.catalog.tenantIndex(d.tenant) !== ti) continue;
      out.push(this.rowSetOf(ti, d));
    }
    return out;
  }

  /** A deletion as the rows it selects in tenant `ti`. */
  private rowSetOf(ti: number, d: Deletion): RowSet {
    const match = compileMatchers(d.matchers);
    return {
      streams: this.catalog
        .streamsOf(ti)
        .filter((st) => match(st.labels))
        .map((st) => st.id),
      from: d.start,
      through: d.end,
      lineFilters: d.lineFilters,
    };
  }

  setDeletions(deletions: readonly Deletion[]): void {
    // A new deletion may take out a line kept as stored at a stream's greatest time (dedupe.ts).
    if (newDeletion(this.deletions, deletions)) this.heads.forgetLines();
    this.deletions = [...deletions];
  }

  /**
   * Removes a deletion's rows from disk: the log is converted first (so that every row is in a
   * part), then each part of the tenant's days in the range that holds such rows is written again
   * without them (rewrite.ts). One maintenance job: compaction never sees a part half done.
   */
  async purge(deletion: Deletion): Promise<void> {
    this.heads.forgetLines();
    await this.exclusive(
      async () => {
        const ti = this.catalog.tenantIndex(deletion.tenant);
        if (ti === undefined) return;
        await this.seal();
        while (this.wal.sealed.length > 0) await this.convert();
        const rows = this.rowSetOf(ti, deletion);
        if (rows.streams.length === 0) return;
        const params: string[] = [];
        const condition = rowSetSql(rows, binder(params));
        const end = deletion.end < MAX_TIMESTAMP_NS ? deletion.end : MAX_TIMESTAMP_NS - 1n;
        for (const part of this.parts.select(ti, dayOf(deletion.start), dayOf(end))) {
          await this.replacePart(part, condition, params);
        }
      },
      { rethrow: true },
    );
    // And what was appended meanwhile.
    this.heads.forgetLines();
  }

  /** Writes `part` again without the rows `condition` selects, and swaps it in for readers to come. */
  private async replacePart(part: Part, condition: string, params: readonly string[]): Promise<number> {
    const { removed, part: next } = await rewritePart(this.bg, part, condition, params);
    if (removed === 0) return 0;
    // In one synchronous step readers switch to the new part (or to none).
    this.parts.remove([part]);
    if (next) this.parts.add(next);
    await this.snapshots.retire([part.path]);
    return removed;
  }

  /** A read of `prepared` failed: a DamagedDataError if a part it read is damaged, else `err`. */
  private readFailed(err: unknown, prepared: Prepared, signal?: AbortSignal): Promise<never> {
    // DuckDB's OutOfMemoryException reaches JavaScript as a plain Error with this message prefix.
    if (err instanceof Error && err.message.startsWith('Out of Memory Error')) {
      return Promise.reject(new StoreMemoryError(err.message, { cause: err }));
    }
    return this.damage.readFailed(err, prepared.parts, signal);
  }

  async *entries(query: EntryQuery): AsyncIterable<StoredEntry[]> {
    const prepared = await this.prepare(query);
    if (!prepared) return;
    const dir = query.direction === 'backward' ? 'DESC' : 'ASC';
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    try {
      const order = query.unordered && query.limit === undefined ? '' : ` ORDER BY ts ${dir}, n ${dir}`;
      const sql = `SELECT stream, n, ts, observed, attrs, body FROM ${prepared.relation} WHERE ${prepared.where}${order}${limit}`;
      const stream = this.db.rows(sql, prepared.params, query.signal);
      try {
        for (;;) {
          // Only the store's read is checked for damage, not what the caller does between batches.
          const next = await stream
            .next()
            .catch((err: unknown) => this.readFailed(err, prepared, query.signal));
          if (next.done) break;
          yield next.value.map((row) => this.toEntry(row));
        }
      } finally {
        // A caller that stops early (a page is full) ends the DuckDB query and frees its memory.
        await stream.return(undefined);
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
      const [[n] = []] = await this.db
        .all(
          `SELECT count(*) FROM ${prepared.relation} WHERE ${prepared.where}`,
          prepared.params,
          selection.signal,
        )
        .catch((err: unknown) => this.readFailed(err, prepared, selection.signal));
      return Number(n ?? 0);
    } finally {
      prepared.release();
    }
  }

  async countByStream(selection: Selection): Promise<StreamCount[]> {
    const prepared = await this.prepare(selection);
    if (!prepared) return [];
    try {
      const rows = await this.db
        .all(
          `SELECT stream, count(*), sum(strlen(body)) FROM ${prepared.relation} WHERE ${prepared.where} GROUP BY stream`,
          prepared.params,
          selection.signal,
        )
        .catch((err: unknown) => this.readFailed(err, prepared, selection.signal));
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
    const prepared = await this.prepare(bucketSelection(selection, origin, width));
    if (!prepared) return [];
    try {
      const out: BucketCount[] = [];
      const attrCache = new Map<string, Record<string, string>>();
      // Without bytes, the body column is read only when a line filter needs it.
      // Plain numbers (DOUBLE, exact below 2^53) rather than BIGINT: no bigint per value in JS.
      const sql = `SELECT stream::DOUBLE, attrs, ${bucketExpr(origin, width)}::DOUBLE AS bucket, count(*)::DOUBLE, ${options.bytes === false ? '0::DOUBLE' : 'sum(strlen(body))::DOUBLE'} FROM ${prepared.relation} WHERE ${prepared.where} GROUP BY stream, attrs, bucket`;
      try {
        for await (const rows of this.db.rows(sql, prepared.params, selection.signal)) {
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
      } catch (err) {
        await this.readFailed(err, prepared, selection.signal);
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
      const rows = await this.db
        .all(`SELECT DISTINCT stream FROM ${prepared.relation} WHERE ${prepared.where}`, prepared.params)
        .catch((err: unknown) => this.readFailed(err, prepared));
      return rows.map(([id]) => this.catalog.stream(Number(id))).filter((s) => s !== undefined);
    } finally {
      prepared.release();
    }
  }

  /**
   * Each stream's cutoff under `policy` at `now` (Loki's retention_stream: of the rules a stream
   * matches, the highest priority applies, and of equal priorities the shortest period; no rule:
   * the global period), with the rule it comes from (-1: the global period). Streams kept for ever
   * are left out.
   */
  private cutoffs(
    ti: number,
    now: bigint,
    policy: RetentionPolicy,
  ): Map<StreamRef, { cutoff: bigint; rule: number }> {
    return streamCutoffs(this.catalog.streamsOf(ti), now, policy);
  }

  /** The streams of `cutoffs` grouped by cutoff: what a retention rewrite takes out. */
  private expiredRows(cutoffs: ReadonlyMap<StreamRef, { cutoff: bigint }>, from: bigint): RowSet[] {
    const byCutoff = new Map<bigint, bigint[]>();
    for (const [stream, { cutoff }] of cutoffs) {
      if (cutoff > from) getOrCreate(byCutoff, cutoff, () => []).push(stream.id);
    }
    return [...byCutoff].map(([cutoff, streams]) => ({ streams, through: cutoff - 1n }));
  }

  async applyRetention(now: bigint, policy: RetentionPolicy): Promise<number> {
    // What reads see at once, for every tenant: nothing before the oldest cutoff a stream can have.
    const longest = longestRetention(policy);
    if (longest !== undefined) {
      const floor = ((now - longest) / NS_PER_DAY) * NS_PER_DAY;
      if (floor > this.retainFrom) this.retainFrom = floor;
    }
    let touched = 0;
    // Lines kept as stored at streams' greatest times may go (dedupe.ts).
    this.heads.forgetLines();
    await this.exclusive(async () => {
      const retired: string[] = [];
      const byTenant = new Map<number, Map<StreamRef, { cutoff: bigint; rule: number }>>();
      for (const { tenantIndex, day, parts } of [...this.parts.days()]) {
        const cutoffs = getOrCreate(byTenant, tenantIndex, () => this.cutoffs(tenantIndex, now, policy));
        const dayStart = BigInt(Date.parse(`${day}T00:00:00Z`)) * 1_000_000n;
        const rows = this.expiredRows(cutoffs, dayStart);
        if (rows.length === 0) continue;
        const streams = this.catalog.streamsOf(tenantIndex);
        const whole =
          this.catalog.lost === 0 &&
          streams.length > 0 &&
          streams.every((st) => (cutoffs.get(st)?.cutoff ?? -1n) >= dayStart + NS_PER_DAY);
        touched++;
        if (whole) {
          this.parts.remove(parts);
          retired.push(this.parts.dayDir(tenantIndex, day));
          continue;
        }
        const params: string[] = [];
        const bind = binder(params);
        const condition = `(${rows.map((r) => rowSetSql(r, bind)).join(' OR ')})`;
        for (const part of [...parts]) await this.replacePart(part, condition, params);
      }
      await this.snapshots.retire(retired);
    });
    this.heads.forgetLines();
    return touched;
  }

  async retentionReport(tenant: string, now: bigint, policy: RetentionPolicy): Promise<RetentionReport[]> {
    const ti = this.catalog.tenantIndex(tenant);
    if (ti === undefined) return [];
    const groups = new Map<string, { rule: number; cutoff: bigint; streams: bigint[] }>();
    for (const [stream, { cutoff, rule }] of this.cutoffs(ti, now, policy)) {
      getOrCreate(groups, `${rule}/${cutoff}`, () => ({ rule, cutoff, streams: [] })).streams.push(stream.id);
    }
    const byRule = new Map<number, { rule: number; streams: number; entries: number; bytes: number }>();
    for (const g of groups.values()) {
      const total = getOrCreate(byRule, g.rule, () => ({ rule: g.rule, streams: 0, entries: 0, bytes: 0 }));
      if (g.cutoff <= 0n) continue;
      const prepared = await this.prepare({
        tenant,
        start: 0n,
        end: g.cutoff,
        matchers: [],
        lineFilters: [],
        streamIds: g.streams,
      });
      if (!prepared) continue;
      try {
        const rows = await this.db
          .all(
            `SELECT stream, count(*), sum(strlen(body)) FROM ${prepared.relation} WHERE ${prepared.where} GROUP BY stream`,
            prepared.params,
          )
          .catch((err: unknown) => this.readFailed(err, prepared));
        for (const [, entries, bytes] of rows) {
          total.streams++;
          total.entries += Number(entries);
          total.bytes += Number(bytes ?? 0);
        }
      } finally {
        prepared.release();
      }
    }
    return [...byRule.values()].sort((a, b) => a.rule - b.rule);
  }

  async stats(): Promise<StoreStats> {
    return {
      diskBytes: this.parts.bytes + this.wal.bytes,
      pendingBytes: this.wal.bytes,
      streams: this.catalog.size,
      damagedFiles: this.parts.damagedCount + (this.catalog.damaged > 0 ? 1 : 0),
      quarantinedFiles: this.quarantined,
    };
  }

  async tenants(): Promise<string[]> {
    return this.catalog.tenantList();
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

/** Whether a log segment may hold entries of tenant `ti` in [start, end): unknown spans may. */
function mayHold(seg: Segment, ti: number, start: bigint, end: bigint): boolean {
  if (!seg.spans) return true;
  const span = seg.spans.get(ti);
  return span !== undefined && span.max >= start && span.min < end;
}
