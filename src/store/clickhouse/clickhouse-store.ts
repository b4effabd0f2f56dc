/**
 * @module The ClickHouse backend of the Store interface: entries in one MergeTree table (or a
 * Distributed table over a cluster's shards), written through ClickHouse's HTTP interface, read
 * back with the selection compiled to SQL (sql.ts). Any number of kjournal servers may write one
 * database: sequence numbers are split between them by slot (seq-clock.ts), and each learns of the
 * others' appends from the `appends` table (announcer.ts, writers.ts).
 *
 * Writes: concurrent appends are grouped into one INSERT (ClickHouse wants few, large inserts: each
 * makes a part), acknowledged once ClickHouse acknowledged it (synchronously on every shard with a
 * cluster). De-duplication as the embedded store: an entry equal in stream, time and line to one
 * stored is acknowledged and not stored again (looked up in ClickHouse, so it holds across servers
 * and restarts).
 */
import { randomUUID } from 'node:crypto';
import { labelValue } from '../../model/kube-meta.js';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels, LogRecord } from '../../model/record.js';
import type { LineLog } from '../../util/log.js';
import { sizeValue } from '../../util/size.js';
import { entryKey, newDeletion, type StreamHeads } from '../dedupe.js';
import { compileMatchers } from '../matchers.js';
import { streamCutoffs } from '../retention.js';
import {
  type AppendedEntries,
  type AppendResult,
  type BucketCount,
  bucketSelection,
  type Deletion,
  type EntryQuery,
  InvalidEntryError,
  type LabelMatcher,
  longestRetention,
  MAX_TIMESTAMP_NS,
  type RetentionPolicy,
  type RetentionReport,
  type Selection,
  type Store,
  type StoredEntry,
  StoreMemoryError,
  StoreQueryError,
  StoreSetupError,
  type StoreStats,
  StoreUnavailableError,
  type StreamCount,
  type StreamRef,
} from '../store.js';
import { Announcer } from './announcer.js';
import { type Classified, classify, TenantHeads } from './dedupe.js';
import { type EntriesTable, expire, mutate } from './expire.js';
import {
  ACCESS_DENIED_CODES,
  AUTH_CODES,
  ClickHouseError,
  ClickHouseHttp,
  ClickHouseUnavailableError,
  int,
  MEMORY_LIMIT_EXCEEDED,
  quote,
  TIMEOUT_EXCEEDED,
  TOO_MANY_QUERIES,
} from './http.js';
import { dropOldHours, type ForeignAppend, foreignAppends } from './others.js';
import { type RowBinaryReader, rowBinaryRows } from './rowbinary.js';
import {
  APPENDS_COLUMNS,
  type AppendRows,
  ENTRIES_COLUMNS,
  entryRows,
  pairsRecord,
  STREAMS_COLUMNS,
  streamRows,
} from './rows.js';
import {
  DAY_NS,
  ensureSchema,
  type SchemaOptions,
  SchemaVersionError,
  syncInsert,
  tableName,
} from './schema.js';
import { SeqClock, timeFloor } from './seq-clock.js';
import { type Conditions, type RowSet, rowSetSql, streamList, whereClause } from './sql.js';
import { StreamCache } from './streams.js';
import { claimSlot, GONE, heartbeat, liveWriters } from './writers.js';

export interface ClickHouseBackendConfig {
  readonly kind: 'clickhouse';
  /** ClickHouse's HTTP interface, e.g. http://127.0.0.1:8123 */
  readonly url: string;
  /** Default `kjournal`. */
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  /** A cluster of the server's `remote_servers`: Distributed tables over its shards. */
  readonly cluster?: string;
  /** With a cluster: ReplicatedMergeTree locals and quorum inserts. */
  readonly replicated?: boolean;
  /** How often other servers' appends are looked for (ms); default 250. */
  readonly pollMs?: number;
  /** A query's time limit in ClickHouse (max_execution_time, seconds); default 60. */
  readonly queryTimeoutSeconds?: number;
  /** A query's memory limit in ClickHouse (max_memory_usage), e.g. `1GB`. */
  readonly memoryLimit?: string;
}

export interface ClickHouseStoreOptions extends Omit<ClickHouseBackendConfig, 'kind'> {
  readonly log?: LineLog;
  readonly onError?: (err: unknown) => void;
}

/** Something about ClickHouse that retrying will not fix: credentials, rights, a newer schema. */
export class ClickHouseSetupError extends StoreSetupError {
  override readonly name = 'ClickHouseSetupError';
}

/** The store's largest accepted entry, as the embedded store's (its write-ahead log's line). */
const MAX_ENTRY_BYTES = 4 << 20;
/** At most this much in one INSERT; more waits for the next. */
const MAX_INSERT_BYTES = 64 << 20;
/** An insert of fewer rows waits up to LINGER_MS for more while appends keep coming. */
const MIN_INSERT_ROWS = 8000;
const LINGER_MS = 15;
/** One INSERT at a time: the appends that come meanwhile make the next one larger. */
const MAX_INSERTS = 1;
const HEARTBEAT_MS = 1000;
/** How often old heartbeats and appends rows are dropped (others.ts). */
const CLEANUP_MS = 600_000;

interface AppendJob extends AppendRows {
  resolve(): void;
  reject(err: unknown): void;
}

export class ClickHouseStore implements Store {
  private readonly http: ClickHouseHttp;
  private readonly schema: SchemaOptions;
  private readonly streamsCache: StreamCache;
  private readonly heads = new TenantHeads();
  /** Appends classified and not yet finished (appendClassified). */
  private readonly running = new Set<Promise<void>>();
  private readonly writer = randomUUID();
  private clock: SeqClock | undefined;
  private announcer = new Announcer(0n);
  private readonly log: LineLog;
  private deletions: readonly Deletion[] = [];
  private retainFrom = 0n;
  private queue: AppendJob[] = [];
  /** Appends under way, and their jobs in inserts: the others are being classified. */
  private outstanding = 0;
  private insertingJobs = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private inserting = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastBeat = 0;
  /** When old heartbeats and `appends` rows were last dropped (ms). */
  private cleanedAt = 0;
  /** Whether the last poll saw other live servers, and when it ran (ms). */
  private othersLive = true;
  private polledAt = 0;
  /** Other servers' appends are announced above this number. */
  private foreignCursor = 0n;
  private closed = false;
  /** Why the store cannot serve now (ClickHouse unreachable); undefined when it can. */
  private down: string | undefined = 'not opened';
  private opening: Promise<void> | undefined;
  /** The last refused write logged (writeFailed). */
  private lastRefusal = { message: '', at: 0 };

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.http = new ClickHouseHttp({
      url: options.url,
      ...(options.user ? { user: options.user } : {}),
      ...(options.password ? { password: options.password } : {}),
    });
    this.schema = {
      database: options.database ?? 'kjournal',
      ...(options.cluster ? { cluster: options.cluster } : {}),
      ...(options.replicated ? { replicated: true } : {}),
    };
    this.streamsCache = new StreamCache(this.http, this.table('streams'));
    this.log = options.log ?? (() => {});
  }

  private table(name: string, local = false): string {
    return tableName(this.schema.database, name, local, this.schema.cluster);
  }

  private get pollMs(): number {
    return this.options.pollMs ?? 250;
  }

  private get insertSettings(): Record<string, number> {
    return syncInsert(this.schema);
  }

  private get readSettings(): Record<string, number> {
    const s: Record<string, number> = {
      max_execution_time: this.options.queryTimeoutSeconds ?? 60,
    };
    const mem = this.options.memoryLimit ? sizeValue(this.options.memoryLimit) : undefined;
    if (mem) s.max_memory_usage = mem;
    return s;
  }

  /** Why the store cannot serve now, or undefined when it can (the server's /ready). */
  unavailable(): string | undefined {
    return this.down;
  }

  /**
   * Connects, creates the schema and claims a writer slot. ClickHouse unreachable: the store opens
   * anyway, says so once, refuses work with ClickHouseUnavailableError and keeps trying; wrong
   * credentials, missing rights or a newer schema: ClickHouseSetupError.
   */
  async open(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      if (!(err instanceof ClickHouseUnavailableError)) throw setupError(err, this.options.url);
      this.down = err.message;
      this.log(`${err.message}; retrying in the background, data paths answer 503 until then`);
      this.schedule(1000);
    }
  }

  private connect(): Promise<void> {
    this.opening ??= (async () => {
      try {
        await ensureSchema(this.http, this.schema, this.writer);
        // The slot first: by the time the greatest stored number is read, the other servers have
        // polled since this one's first heartbeat, so they write `appends` rows for it.
        const slot = await claimSlot(this.http, this.table('writers'), this.writer, this.insertSettings, {
          safe: timeFloor(),
          waitMs: Math.max(300, 2.5 * this.pollMs),
        });
        const floor = await this.maxSeq();
        this.clock = new SeqClock(slot, floor);
        this.announcer = new Announcer(floor);
        this.foreignCursor = floor;
        this.lastBeat = Date.now();
        this.down = undefined;
        this.log(
          `ClickHouse store: database ${this.schema.database} at ${this.options.url}, writer slot ${slot}`,
        );
        this.schedule(this.pollMs);
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /** The greatest sequence number stored (0 in an empty database). */
  private async maxSeq(): Promise<bigint> {
    const text = await this.http.text({
      query: `SELECT max(seq) FROM ${this.table('entries')} FORMAT TabSeparated`,
      settings: this.readSettings,
    });
    const fromAppends = await this.http.text({
      query: `SELECT max(first + count - 1) FROM ${this.table('appends')} WHERE count > 0 FORMAT TabSeparated`,
    });
    const a = BigInt(text.trim() || '0');
    const b = BigInt(fromAppends.trim() || '0');
    return a > b ? a : b;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.polling = this.tick().finally(() => {
        this.polling = undefined;
        this.schedule(this.down ? 1000 : this.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (!this.clock) {
        await this.connect();
        this.log(`ClickHouse at ${this.options.url} is reachable again`, 'info');
        return;
      }
      await this.poll();
      if (this.down) this.log(`ClickHouse at ${this.options.url} is reachable again`, 'info');
      this.down = undefined;
    } catch (err) {
      if (err instanceof ClickHouseUnavailableError) {
        if (!this.down) this.log(`${err.message}; data paths answer 503 until it is back`);
        this.down = err.message;
        return;
      }
      if (!this.clock && !(err instanceof ClickHouseUnavailableError)) {
        this.down = setupError(err, this.options.url).message;
      }
      this.options.onError?.(err);
    }
  }

  /** Heartbeat, other writers' safe numbers, and their appends: what watchers and lastSeq need. */
  private async poll(): Promise<void> {
    const now = Date.now();
    if (now - this.cleanedAt >= CLEANUP_MS) {
      this.cleanedAt = now;
      const on = this.schema.cluster ? ` ON CLUSTER ${this.schema.cluster}` : '';
      await dropOldHours(
        this.http,
        this.schema.database,
        [this.table('writers', true), this.table('appends', true)],
        on,
        now,
      ).catch((err: unknown) => this.options.onError?.(err));
    }
    if (now - this.lastBeat >= HEARTBEAT_MS) {
      await heartbeat(
        this.http,
        this.table('writers'),
        { writer: this.writer, slot: this.clock!.slot, safe: this.safe() },
        this.insertSettings,
      );
      this.lastBeat = now;
    }
    const others = (await liveWriters(this.http, this.table('writers'))).filter(
      (w) => w.writer !== this.writer,
    );
    this.othersLive = others.length > 0;
    this.polledAt = Date.now();
    let foreignSafe: bigint | undefined;
    for (const w of others) if (foreignSafe === undefined || w.safe < foreignSafe) foreignSafe = w.safe;
    const rows = await foreignAppends(
      (sql, read) => this.readRows(sql, read),
      this.table('appends'),
      this.writer,
      this.foreignCursor,
      foreignSafe,
      now,
    );
    if (rows.length > 0) {
      const pending = [];
      const byTenant = new Map<string, typeof rows>();
      for (const row of rows) {
        const list = byTenant.get(row.tenant) ?? [];
        list.push(row);
        byTenant.set(row.tenant, list);
      }
      for (const [tenant, list] of byTenant) {
        const entries = this.announcer.watched ? await this.foreignEntries(tenant, list) : [];
        for (const row of list) {
          const last = row.first + BigInt(row.count) - 1n;
          pending.push({
            first: row.first,
            last,
            tenant,
            entries: entries.filter((e) => e.seq >= row.first && e.seq <= last),
          });
        }
      }
      // Their spans count for de-duplication here too (a push retried on another server).
      for (const row of rows) {
        const heads = this.heads.of(row.tenant);
        for (const id of row.streams) if (heads.has(id)) heads.cover(id, row.minTs, row.maxTs);
      }
      this.foreignCursor = rows[rows.length - 1]!.first;
      this.announcer.foreign(pending);
    }
    this.announcer.setForeignSafe(foreignSafe);
  }

  private async foreignEntries(tenant: string, rows: readonly ForeignAppend[]): Promise<StoredEntry[]> {
    const streams = new Set<bigint>();
    let min = MAX_TIMESTAMP_NS;
    let max = 0n;
    for (const r of rows) {
      for (const s of r.streams) streams.add(s);
      if (r.minTs < min) min = r.minTs;
      if (r.maxTs > max) max = r.maxTs;
    }
    const ranges = rows.map((r) => `(seq >= ${int(r.first)} AND seq < ${int(r.first + BigInt(r.count))})`);
    await this.streamsCache.ensure(tenant, streams);
    const out: StoredEntry[] = [];
    const sql = `SELECT stream, seq, ts, observed, attr_names, attr_values, body FROM ${this.table('entries')} WHERE tenant = ${quote(tenant)} AND stream IN (${streamList([...streams])}) AND ts >= ${int(min)} AND ts <= ${int(max)} AND (${ranges.join(' OR ')}) ORDER BY seq`;
    for await (const batch of this.rowsOf(sql, tenant)) out.push(...batch);
    return out;
  }

  /** This writer's safe number: all it took up to it is stored, it will take nothing below. */
  private safe(): bigint {
    return this.announcer.ownSafe() ?? this.clock!.floor();
  }

  private ready(): void {
    if (this.closed) throw new Error('store is closed');
    if (this.down || !this.clock) {
      throw new ClickHouseUnavailableError(this.down ?? `ClickHouse at ${this.options.url} is not connected`);
    }
  }

  async append(tenant: string, records: readonly LogRecord[]): Promise<AppendResult> {
    this.ready();
    if (records.length === 0) return { firstSeq: this.clock!.peek(), stored: [], duplicates: 0 };
    this.outstanding++;
    try {
      return await this.appendRecords(tenant, records);
    } finally {
      this.outstanding--;
    }
  }

  private async appendRecords(tenant: string, records: readonly LogRecord[]): Promise<AppendResult> {
    let bytes = 0;
    let minTs = MAX_TIMESTAMP_NS;
    let maxTs = 0n;
    for (const r of records) {
      checkTime(r, 'a timestamp', r.timestamp);
      checkTime(r, 'an observed time', r.observedTimestamp);
      const size = Buffer.byteLength(r.body) + attributesBytes(r.attributes);
      if (size > MAX_ENTRY_BYTES) {
        throw new InvalidEntryError(
          `entry for stream '${labelsKey(r.labels)}' is too large to store: ${size} bytes, limit ${MAX_ENTRY_BYTES}`,
        );
      }
      bytes += size + 64;
      if (r.timestamp < minTs) minTs = r.timestamp;
      if (r.timestamp > maxTs) maxTs = r.timestamp;
    }
    // Streams, and what may repeat an earlier record or a stored entry.
    const refs: StreamRef[] = new Array(records.length);
    const newStreams = new Map<bigint, StreamRef>();
    let lastLabels: Labels | undefined;
    let lastRef: StreamRef | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.labels !== lastLabels) {
        const { ref, known } = this.streamsCache.ref(tenant, r.labels);
        if (!known) newStreams.set(ref.id, newStreams.get(ref.id) ?? ref);
        lastLabels = r.labels;
        lastRef = newStreams.get(ref.id) ?? ref;
      }
      refs[i] = lastRef!;
    }
    const heads = this.heads.of(tenant);
    // A refused de-duplication read fails the write as a refused insert would (503, retried),
    // not as a refused query (400, which an agent would drop).
    await this.loadHeads(tenant, heads, refs).catch((err: unknown) => {
      throw this.writeFailed(err);
    });
    const claims = heads.claims();
    const classified = classify(heads, records, refs, claims);
    // Appends classified before this one, still running: a lookup waits for them, so that one of
    // the same entries at once (its lines taken, not yet written) is found (as the embedded
    // appender's lookup lane).
    const earlier = [...this.running];
    let done!: () => void;
    const running = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.running.add(running);
    try {
      const result = await this.appendClassified(
        tenant,
        records,
        refs,
        newStreams,
        classified,
        earlier,
        bytes,
        minTs,
        maxTs,
      );
      claims.stored();
      return result;
    } catch (err) {
      // Written or not, the lines this append took are unknown: looked up from now on.
      claims.failed();
      throw err;
    } finally {
      this.running.delete(running);
      done();
    }
  }

  /** The rest of `append`, once its records are classified. */
  private async appendClassified(
    tenant: string,
    records: readonly LogRecord[],
    refs: readonly StreamRef[],
    newStreams: Map<bigint, StreamRef>,
    classified: Classified,
    earlier: readonly Promise<void>[],
    bytes: number,
    minTs: bigint,
    maxTs: bigint,
  ): Promise<AppendResult> {
    let drop = classified.drop;
    if (classified.check.length > 0) {
      // Entries already stored (a retried push, an import run again).
      await Promise.all(earlier);
      const stored = await this.storedKeys(tenant, refs, records, classified.check).catch((err: unknown) => {
        throw this.writeFailed(err);
      });
      for (const i of classified.check) {
        if (stored.has(entryKey(refs[i]!.id, records[i]!.timestamp, records[i]!.body))) {
          drop ??= new Uint8Array(records.length);
          drop[i] = 1;
        }
      }
    }
    this.ready();
    const keptRecords = drop ? records.filter((_, i) => !drop![i]) : records;
    const keptRefs = drop ? refs.filter((_, i) => !drop![i]) : refs;
    const duplicates = records.length - keptRecords.length;
    if (keptRecords.length === 0) return { firstSeq: this.clock!.peek(), stored: [], duplicates };
    const first = this.clock!.take(keptRecords.length);
    this.announcer.begin(first);
    const used = new Set(keptRefs.map((r) => r.id));
    const job = await new Promise<void>((resolve, reject) => {
      this.queue.push({
        tenant,
        first,
        records: keptRecords,
        refs: keptRefs,
        newStreams: [...newStreams.values()].filter((s) => used.has(s.id)),
        bytes,
        minTs,
        maxTs,
        resolve,
        reject,
      });
      this.pump();
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (job !== undefined) {
      this.announcer.abandon(first);
      throw job;
    }
    this.streamsCache.add(tenant, [...newStreams.values()]);
    const last = first + BigInt(keptRecords.length) - 1n;
    const entries: StoredEntry[] = [];
    if (this.announcer.watched) {
      for (let i = 0; i < keptRecords.length; i++) {
        const r = keptRecords[i]!;
        entries.push({
          stream: keptRefs[i]!,
          timestamp: r.timestamp,
          observedTimestamp: r.observedTimestamp,
          attributes: r.attributes,
          body: r.body,
          seq: first + BigInt(i),
        });
      }
    }
    this.announcer.done(first, last, tenant, entries);
    return { firstSeq: first, stored: keptRecords, duplicates };
  }

  /** Sends queued appends as one INSERT each time one of the MAX_INSERTS slots is free. */
  private pump(force = false): void {
    while (this.inserting < MAX_INSERTS && this.queue.length > 0) {
      let n = 0;
      let bytes = 0;
      let rows = 0;
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= MAX_INSERT_BYTES)) {
        bytes += this.queue[n]!.bytes;
        rows += this.queue[n]!.records.length;
        n++;
      }
      // While other appends are being classified, a small insert waits a little for them:
      // ClickHouse spent about three times the CPU per row on inserts of 2,000 rows as on 10,000
      // here (a part each, merged again later). A lone append (a tail's probe) goes at once.
      const preparing = this.outstanding - this.queue.length - this.insertingJobs;
      if (!force && preparing > 0 && rows < MIN_INSERT_ROWS && bytes < MAX_INSERT_BYTES / 2) {
        this.lingerTimer ??= setTimeout(() => {
          this.lingerTimer = undefined;
          this.pump(true);
        }, LINGER_MS);
        return;
      }
      if (this.lingerTimer) {
        clearTimeout(this.lingerTimer);
        this.lingerTimer = undefined;
      }
      const jobs = this.queue.splice(0, n);
      this.insertingJobs += jobs.length;
      this.inserting++;
      this.insert(jobs)
        .then(
          () => {
            for (const j of jobs) j.resolve();
          },
          (err: unknown) => {
            const failed = this.writeFailed(err);
            for (const j of jobs) j.reject(failed);
          },
        )
        .finally(() => {
          this.inserting--;
          this.insertingJobs -= jobs.length;
          this.pump();
        });
    }
  }

  private async insert(jobs: readonly AppendJob[]): Promise<void> {
    const now = Date.now();
    const streams = streamRows(jobs, now);
    if (streams) {
      await this.http.exec({
        query: `INSERT INTO ${this.table('streams')} ${STREAMS_COLUMNS} FORMAT RowBinary`,
        data: streams,
        settings: this.insertSettings,
      });
    }
    const { entries, appends } = entryRows(jobs, this.writer, now, MAX_INSERT_BYTES);
    // `appends` rows tell other servers of these entries: with none alive (the last poll, a recent
    // one, saw none; a server that starts waits for two polls before it reads where to start
    // from), they are not written, which spares ClickHouse a part per insert.
    const tell = this.othersLive || Date.now() - this.polledAt > 2 * this.pollMs;
    const insertEntries = () =>
      this.http.exec({
        query: `INSERT INTO ${this.table('entries')} ${ENTRIES_COLUMNS} FORMAT RowBinary`,
        data: entries,
        settings: this.insertSettings,
      });
    try {
      if (tell) {
        // The `appends` rows first: if the entries then fail, the rows announce a range with no
        // entries (nothing), and the retried push takes new numbers and new rows. The other order
        // could store entries that no row announces, and a retry would find them all duplicates.
        await this.http.exec({
          query: `INSERT INTO ${this.table('appends')} ${APPENDS_COLUMNS} FORMAT RowBinary`,
          data: appends,
          settings: this.insertSettings,
        });
      }
      await insertEntries();
    } catch (err) {
      throw this.writeFailed(err);
    }
  }

  /**
   * An append's failure as the API should see it: unreachable (the store is down until a poll gets
   * through), or refused by ClickHouse (too many parts, no quorum, memory, a table gone or rights
   * revoked behind our back): nothing was acknowledged either way, so both are "unavailable" (503
   * with Retry-After, which pushers retry; the "ClickHouse down or refusing"), with
   * ClickHouse's reason, not a 500. Reads stay up when only an insert was refused.
   */
  private writeFailed(err: unknown): unknown {
    if (err instanceof ClickHouseUnavailableError) {
      if (!this.down) this.log(`${err.message}; pushes answer 503 until it is back`);
      this.down = err.message;
      return err;
    }
    // A read inside an append (de-duplication) that ClickHouse refused is the write's refusal too:
    // a 400 would make an agent drop the batch.
    const cause = err instanceof StoreQueryError || err instanceof StoreMemoryError ? err.cause : err;
    if (cause instanceof ClickHouseError) {
      const refused = new StoreUnavailableError(`ClickHouse refused the write: ${cause.message}`, {
        cause,
      });
      // One line per reason and minute, not one per retried push.
      const now = Date.now();
      if (refused.message !== this.lastRefusal.message || now - this.lastRefusal.at > 60_000) {
        this.log(`${refused.message}; pushes answer 503`);
        this.lastRefusal = { message: refused.message, at: now };
      }
      return refused;
    }
    return err;
  }

  /**
   * The keys (dedupe.ts entryKey) of stored entries equal in stream and time to the records at
   * `indexes`.
   */
  private async storedKeys(
    tenant: string,
    refs: readonly StreamRef[],
    records: readonly LogRecord[],
    indexes: readonly number[],
  ): Promise<Set<string>> {
    const streams = new Set<bigint>();
    const times = new Set<bigint>();
    let min = MAX_TIMESTAMP_NS;
    let max = 0n;
    for (const i of indexes) {
      const ts = records[i]!.timestamp;
      streams.add(refs[i]!.id);
      times.add(ts);
      if (ts < min) min = ts;
      if (ts > max) max = ts;
    }
    const where = this.where({ tenant, start: min, end: max + 1n, streams: [...streams], lineFilters: [] });
    const found = new Set<string>();
    const sql = `SELECT stream, ts, body FROM ${this.table('entries')} PREWHERE ts IN (${[...times].map(int).join(', ')}) WHERE ${where}`;
    for (const k of await this.readRows(sql, (r) => entryKey(r.uint64(), r.uint64(), r.string())))
      found.add(k);
    return found;
  }

  /** Loads the greatest stored time of the streams of `refs` not known yet (dedupe.ts). */
  private async loadHeads(
    tenant: string,
    heads: StreamHeads<bigint>,
    refs: readonly StreamRef[],
  ): Promise<void> {
    const unknown = new Set<bigint>();
    let last: StreamRef | undefined;
    for (const r of refs) {
      if (r === last) continue;
      last = r;
      if (!heads.has(r.id)) unknown.add(r.id);
    }
    if (unknown.size === 0) return;
    const rows = await this.readRows(
      `SELECT stream, max(ts) FROM ${this.table('entries')} WHERE tenant = ${quote(tenant)} AND stream IN (${streamList([...unknown])}) GROUP BY stream`,
      (r) => ({ id: r.uint64(), max: r.uint64() }),
    );
    for (const { id, max } of rows) {
      heads.load(id, max);
      unknown.delete(id);
    }
    for (const id of unknown) heads.known(id);
  }

  lastSeq(): bigint {
    return this.announcer.visible;
  }

  watchAppends(listener: (appended: AppendedEntries) => void): () => void {
    return this.announcer.watch(listener);
  }

  /** The WHERE clause of a selection, with the deletions in force left out. */
  private where(c: Conditions): string {
    const excluded: RowSet[] = [];
    for (const d of this.deletions) {
      if (d.tenant !== c.tenant || d.end < c.start || d.start >= c.end) continue;
      excluded.push(this.rowSetOfDeletion(d));
    }
    return whereClause(excluded.length > 0 ? { ...c, excluded } : c);
  }

  private deletionStreams = new Map<string, bigint[]>();

  private rowSetOfDeletion(d: Deletion): RowSet {
    return {
      streams: this.deletionStreams.get(d.id) ?? [],
      from: d.start,
      through: d.end,
      lineFilters: d.lineFilters,
    };
  }

  /**
   * Resolves a selection's streams and bounds; undefined when nothing can match. The deletions'
   * streams are resolved here too (their matchers may meet streams created since).
   */
  private async prepare(
    sel: Selection & Partial<Pick<EntryQuery, 'after' | 'direction' | 'afterSeq' | 'streamFilter' | 'hints'>>,
  ): Promise<Conditions | undefined> {
    this.ready();
    let start = sel.start;
    if (start < this.retainFrom) start = this.retainFrom;
    let end = sel.end;
    if (start < 0n) start = 0n;
    if (end > MAX_TIMESTAMP_NS) end = MAX_TIMESTAMP_NS;
    if (sel.after && sel.direction === 'backward' && sel.after.timestamp + 1n < end)
      end = sel.after.timestamp + 1n;
    else if (sel.after && sel.direction !== 'backward' && sel.after.timestamp > start)
      start = sel.after.timestamp;
    if (end <= start) return undefined;
    const all = await this.streamsCache.all(sel.tenant);
    for (const d of this.deletions) {
      if (d.tenant !== sel.tenant) continue;
      const match = compileMatchers(d.matchers);
      this.deletionStreams.set(
        d.id,
        all.filter((s) => match(s.labels)).map((s) => s.id),
      );
    }
    let streams: bigint[] | undefined;
    if (sel.matchers.length > 0 || sel.streamFilter) {
      const match = compileMatchers(sel.matchers);
      const filter = sel.streamFilter;
      streams = all.filter((s) => match(s.labels) && (!filter || filter(s.labels))).map((s) => s.id);
      if (streams.length === 0) return undefined;
      if (streams.length === all.length) streams = undefined;
    }
    if (all.length === 0) return undefined;
    const hints: { literal: string; streams: bigint[] }[] = [];
    if (sel.hints && sel.hints.length > 0) {
      // A hint that every selected stream passes (it has the label) is left out.
      const selected = streams ? new Set(streams) : undefined;
      const candidates = all.filter((s) => !selected || selected.has(s.id));
      for (const h of sel.hints) {
        const names = [h.label, ...(h.orLabels ?? [])];
        const having = candidates
          .filter((s) => names.some((n) => labelValue(s.labels, n) !== undefined))
          .map((s) => s.id);
        if (having.length < candidates.length) hints.push({ literal: h.literal, streams: having });
      }
    }
    return {
      ...(hints.length > 0 ? { hints } : {}),
      tenant: sel.tenant,
      start,
      end,
      lineFilters: sel.lineFilters,
      ...(streams ? { streams } : {}),
      ...(sel.after ? { after: sel.after, cursorDirection: sel.direction ?? 'forward' } : {}),
      ...(sel.afterSeq !== undefined ? { afterSeq: sel.afterSeq } : {}),
    };
  }

  private async readRows<T>(
    sql: string,
    read: (r: RowBinaryReader) => T,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const out: T[] = [];
    for await (const rows of this.readStream(sql, read, signal)) out.push(...rows);
    return out;
  }

  private async *readStream<T>(
    sql: string,
    read: (r: RowBinaryReader) => T,
    signal?: AbortSignal,
  ): AsyncGenerator<T[]> {
    try {
      yield* rowBinaryRows(
        this.http.stream({
          query: `${sql} FORMAT RowBinary`,
          settings: this.readSettings,
          ...(signal ? { signal } : {}),
        }),
        read,
      );
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw readFailed(err);
    }
  }

  private async *rowsOf(sql: string, tenant: string, signal?: AbortSignal): AsyncGenerator<StoredEntry[]> {
    for await (const rows of this.readStream(
      sql,
      (r) => ({
        stream: r.uint64(),
        seq: r.uint64(),
        timestamp: r.uint64(),
        observedTimestamp: r.uint64(),
        names: r.strings(),
        values: r.strings(),
        body: r.string(),
      }),
      signal,
    )) {
      const unknown = rows.filter((r) => !this.streamsCache.get(tenant, r.stream)).map((r) => r.stream);
      if (unknown.length > 0) await this.streamsCache.ensure(tenant, unknown);
      yield rows.map((r) => {
        const attributes = pairsRecord(r.names, r.values);
        return {
          stream: this.streamsCache.get(tenant, r.stream) ?? { id: r.stream, labels: {} },
          timestamp: r.timestamp,
          observedTimestamp: r.observedTimestamp,
          attributes,
          body: r.body,
          seq: r.seq,
        };
      });
    }
  }

  async *entries(query: EntryQuery): AsyncIterable<StoredEntry[]> {
    const c = await this.prepare(query);
    if (!c) return;
    const dir = query.direction === 'backward' ? 'DESC' : 'ASC';
    const order = query.unordered && query.limit === undefined ? '' : ` ORDER BY ts ${dir}, seq ${dir}`;
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    if (query.limit !== undefined && query.limit <= 0) return;
    const sql = `SELECT stream, seq, ts, observed, attr_names, attr_values, body FROM ${this.table('entries')} WHERE ${this.where(c)}${order}${limit}`;
    yield* this.rowsOf(sql, query.tenant, query.signal);
  }

  async count(selection: Selection): Promise<number> {
    const c = await this.prepare(selection);
    if (!c) return 0;
    const rows = await this.readRows(
      `SELECT count() FROM ${this.table('entries')} WHERE ${this.where(c)}`,
      (r) => r.uint64Number(),
      selection.signal,
    );
    return rows[0] ?? 0;
  }

  async countByStream(selection: Selection): Promise<StreamCount[]> {
    const c = await this.prepare(selection);
    if (!c) return [];
    const rows = await this.readRows(
      `SELECT stream, count(), sum(length(body)) FROM ${this.table('entries')} WHERE ${this.where(c)} GROUP BY stream`,
      (r) => ({ id: r.uint64(), entries: r.uint64Number(), bytes: r.uint64Number() }),
      selection.signal,
    );
    await this.streamsCache.ensure(
      selection.tenant,
      rows.map((r) => r.id),
    );
    const out: StreamCount[] = [];
    for (const r of rows) {
      const stream = this.streamsCache.get(selection.tenant, r.id);
      if (stream) out.push({ stream, entries: r.entries, bytes: r.bytes });
    }
    return out;
  }

  async countByBucket(
    selection: Selection,
    origin: bigint,
    width: bigint,
    options: { readonly bytes?: boolean } = {},
  ): Promise<BucketCount[]> {
    const c = await this.prepare(bucketSelection(selection, origin, width));
    if (!c) return [];
    const bucket = `intDiv(toInt64(ts) - toInt64(${int(origin)}) - 1, toInt64(${int(width)}))`;
    const bytes = options.bytes === false ? 'toUInt64(0)' : 'sum(length(body))';
    const rows = await this.readRows(
      `SELECT stream, attr_names, attr_values, ${bucket} AS bucket, count(), ${bytes} FROM ${this.table('entries')} WHERE ${this.where(c)} GROUP BY stream, attr_names, attr_values, bucket`,
      (r) => ({
        id: r.uint64(),
        names: r.strings(),
        values: r.strings(),
        bucket: r.int64Number(),
        entries: r.uint64Number(),
        bytes: r.uint64Number(),
      }),
      selection.signal,
    );
    await this.streamsCache.ensure(
      selection.tenant,
      rows.map((r) => r.id),
    );
    const attrCache = new Map<string, Record<string, string>>();
    const out: BucketCount[] = [];
    for (const r of rows) {
      const stream = this.streamsCache.get(selection.tenant, r.id);
      if (!stream) continue;
      const key = JSON.stringify([r.names, r.values]);
      let attributes = attrCache.get(key);
      if (!attributes) {
        attributes = pairsRecord(r.names, r.values);
        attrCache.set(key, attributes);
      }
      out.push({ stream, attributes, bucket: r.bucket, entries: r.entries, bytes: r.bytes });
    }
    return out;
  }

  async streams(
    tenant: string,
    matchers: readonly LabelMatcher[],
    start: bigint,
    end: bigint,
  ): Promise<StreamRef[]> {
    const c = await this.prepare({ tenant, matchers, start, end, lineFilters: [] });
    if (!c) return [];
    const ids = await this.readRows(
      `SELECT DISTINCT stream FROM ${this.table('entries')} WHERE ${this.where(c)}`,
      (r) => r.uint64(),
    );
    await this.streamsCache.ensure(tenant, ids);
    return ids.map((id) => this.streamsCache.get(tenant, id)).filter((s): s is StreamRef => s !== undefined);
  }

  setDeletions(deletions: readonly Deletion[]): void {
    // Their streams are resolved before each read (prepare), against the streams known then.
    // A new one may take out a line kept as stored at a stream's greatest time (dedupe.ts).
    if (newDeletion(this.deletions, deletions)) this.heads.forgetLines();
    this.deletions = [...deletions];
  }

  async purge(deletion: Deletion): Promise<void> {
    this.ready();
    this.heads.forgetLines();
    const all = await this.streamsCache.all(deletion.tenant);
    const match = compileMatchers(deletion.matchers);
    const streams = all.filter((s) => match(s.labels)).map((s) => s.id);
    if (streams.length === 0) return;
    const rows: RowSet = {
      streams,
      from: deletion.start,
      through: deletion.end,
      lineFilters: deletion.lineFilters,
    };
    const condition = `tenant = ${quote(deletion.tenant)} AND ${rowSetSql(rows)}`;
    await mutate(this.entriesTable, `DELETE WHERE ${condition}`, condition);
  }

  /** The entries table as expire.ts removes from it. */
  private get entriesTable(): EntriesTable {
    const on = this.schema.cluster ? ` ON CLUSTER ${this.schema.cluster}` : '';
    return {
      alter: async (action) => {
        try {
          await this.http.exec({ query: `ALTER TABLE ${this.table('entries', true)}${on} ${action}` });
        } finally {
          // Lines kept as stored at streams' greatest times may be gone (dedupe.ts).
          this.heads.forgetLines();
        }
      },
      count: async (condition) =>
        (
          await this.readRows(`SELECT count() FROM ${this.table('entries')} WHERE ${condition}`, (r) =>
            r.uint64Number(),
          )
        )[0] ?? 0,
      daysBefore: (before) =>
        this.readRows(
          `SELECT DISTINCT intDiv(ts, ${DAY_NS}) AS day FROM ${this.table('entries')} WHERE ts < ${int(before)} ORDER BY day`,
          (r) => r.uint64(),
        ),
    };
  }

  async applyRetention(now: bigint, policy: RetentionPolicy): Promise<number> {
    this.ready();
    // Lines kept as stored at streams' greatest times may go (dedupe.ts).
    this.heads.forgetLines();
    const longest = longestRetention(policy);
    if (longest !== undefined) {
      const floor = ((now - longest) / DAY_NS) * DAY_NS;
      if (floor > this.retainFrom) this.retainFrom = floor;
    }
    const byTenant = new Map<string, Map<StreamRef, { cutoff: bigint; rule: number }>>();
    let everyStream = true;
    for (const t of await this.streamsCache.tenantNames()) {
      const streams = await this.streamsCache.all(t);
      const cutoffs = streamCutoffs(streams, now, policy);
      byTenant.set(t, cutoffs);
      if (cutoffs.size < streams.length) everyStream = false;
    }
    return expire(this.entriesTable, byTenant, everyStream);
  }

  async retentionReport(tenant: string, now: bigint, policy: RetentionPolicy): Promise<RetentionReport[]> {
    this.ready();
    const streams = await this.streamsCache.all(tenant);
    const groups = new Map<string, { rule: number; cutoff: bigint; streams: bigint[] }>();
    for (const [stream, { cutoff, rule }] of streamCutoffs(streams, now, policy)) {
      const key = `${rule}/${cutoff}`;
      const g = groups.get(key) ?? { rule, cutoff, streams: [] };
      g.streams.push(stream.id);
      groups.set(key, g);
    }
    const byRule = new Map<number, { rule: number; streams: number; entries: number; bytes: number }>();
    for (const g of groups.values()) {
      const total = byRule.get(g.rule) ?? { rule: g.rule, streams: 0, entries: 0, bytes: 0 };
      byRule.set(g.rule, total);
      if (g.cutoff <= 0n) continue;
      const c = await this.prepare({ tenant, start: 0n, end: g.cutoff, matchers: [], lineFilters: [] });
      if (!c) continue;
      const rows = await this.readRows(
        `SELECT stream, count(), sum(length(body)) FROM ${this.table('entries')} WHERE ${this.where({ ...c, streams: g.streams })} GROUP BY stream`,
        (r) => ({ id: r.uint64(), entries: r.uint64Number(), bytes: r.uint64Number() }),
      );
      for (const r of rows) {
        total.streams++;
        total.entries += r.entries;
        total.bytes += r.bytes;
      }
    }
    return [...byRule.values()].sort((a, b) => a.rule - b.rule);
  }

  async stats(): Promise<StoreStats> {
    this.ready();
    const [bytes] = await this.readRows(
      // The journal's tables; the heartbeats (`writers`) change every second and weigh nothing.
      `SELECT sum(bytes) FROM system.parts WHERE database = ${quote(this.schema.database)} AND active AND table NOT LIKE 'writers%'`,
      (r) => r.uint64Number(),
    );
    const [streams] = await this.readRows(
      `SELECT uniqExact(tenant, stream) FROM ${this.table('streams')}`,
      (r) => r.uint64Number(),
    );
    return { diskBytes: bytes ?? 0, pendingBytes: 0, streams: streams ?? 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    while (this.inserting > 0 || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    if (this.clock && !this.down) {
      try {
        await heartbeat(
          this.http,
          this.table('writers'),
          { writer: this.writer, slot: this.clock.slot, safe: GONE },
          this.insertSettings,
        );
      } catch {
        // Others take this writer for dead after writers.ts LIVE_MS anyway.
      }
    }
    this.http.close();
  }
}

function checkTime(r: LogRecord, which: string, ts: bigint): void {
  if (ts < 0n || ts > MAX_TIMESTAMP_NS) {
    throw new InvalidEntryError(
      `entry for stream '${labelsKey(r.labels)}' has ${which} the store cannot keep (before 1970 or after 2262): ${ts}`,
    );
  }
}

function attributesBytes(a: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const k in a) n += k.length + a[k]!.length;
  return n;
}

/** A ClickHouse refusal of a read as the store's errors: memory, time, load, or the reason. */
function readFailed(err: unknown): unknown {
  if (!(err instanceof ClickHouseError)) return err;
  const reason = `ClickHouse refused the query: ${err.message}`;
  switch (err.code) {
    case MEMORY_LIMIT_EXCEEDED:
      return new StoreMemoryError(err.message, { cause: err });
    case TIMEOUT_EXCEEDED:
      return new StoreQueryError(`ClickHouse ran out of time for the query: ${err.message}`, 'timeout', {
        cause: err,
      });
    case TOO_MANY_QUERIES:
      return new StoreQueryError(reason, 'busy', { cause: err });
    default:
      return new StoreQueryError(reason, 'refused', { cause: err });
  }
}

/** What a failed start means: credentials, rights or schema (not retried), or the error itself. */
function setupError(err: unknown, url: string): Error {
  if (err instanceof SchemaVersionError) return new ClickHouseSetupError(err.message, { cause: err });
  if (err instanceof ClickHouseError && AUTH_CODES.has(err.code)) {
    return new ClickHouseSetupError(`ClickHouse at ${url} refused the credentials: ${err.message}`, {
      cause: err,
    });
  }
  if (err instanceof ClickHouseError && ACCESS_DENIED_CODES.has(err.code)) {
    return new ClickHouseSetupError(`ClickHouse at ${url} denied access: ${err.message}`, { cause: err });
  }
  if (err instanceof ClickHouseError) {
    return new ClickHouseSetupError(`ClickHouse at ${url} refused kjournal's schema: ${err.message}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
