/**
 * @module The streams of each tenant, as the ClickHouse store keeps them in memory: a stream's id
 * is a hash of its labels (so that every server names it alike without asking), and its labels
 * are a row of the `streams` table, written by the first server that wrote the stream. A server
 * loads a tenant's streams at its first use and then, before each read, those created lately (by
 * itself or another server), so that matchers see every stream a read can meet.
 */
import { createHash } from 'node:crypto';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import type { StreamRef } from '../store.js';
import { type ClickHouseHttp, int, quote } from './http.js';
import { rowBinaryRows } from './rowbinary.js';
import { pairsRecord } from './rows.js';

/** A stream's id: the first 63 bits of SHA-256 of its canonical labels (never 0). */
export function streamId(key: string): bigint {
  const h = createHash('sha256').update(key).digest();
  const id = h.readBigUInt64BE(0) & ((1n << 63n) - 1n);
  return id === 0n ? 1n : id;
}

/** Streams written by other servers this long before our last look are looked for again. */
const OVERLAP_MS = 120_000;

class TenantStreams {
  readonly byId = new Map<bigint, StreamRef>();
  readonly byLabels = new Map<Labels, StreamRef>();
  /**
   * By canonical labels text: a push brings new labels objects for the streams it writes again, and
   * hashing their text (SHA-256) once per stream and push was a tenth of the ingest's time.
   */
  readonly byKey = new Map<string, StreamRef>();
  /** When the table was last read for this tenant (ms, our clock); 0: never. */
  loadedAt = 0;
  loading: Promise<void> | undefined;
}

export class StreamCache {
  private readonly tenants = new Map<string, TenantStreams>();

  constructor(
    private readonly http: ClickHouseHttp,
    private readonly table: string,
  ) {}

  private tenant(name: string): TenantStreams {
    let t = this.tenants.get(name);
    if (!t) {
      t = new TenantStreams();
      this.tenants.set(name, t);
    }
    return t;
  }

  /** The stream of `labels` (the same object is looked up first: records of one push share it). */
  ref(tenant: string, labels: Labels): { ref: StreamRef; known: boolean } {
    const t = this.tenant(tenant);
    const cached = t.byLabels.get(labels);
    if (cached) return { ref: cached, known: true };
    const key = labelsKey(labels);
    const found = t.byKey.get(key) ?? t.byId.get(streamId(key));
    if (found) {
      if (t.byLabels.size > 100_000) t.byLabels.clear();
      t.byLabels.set(labels, found);
      if (t.byKey.size > 100_000) t.byKey.clear();
      t.byKey.set(key, found);
      return { ref: found, known: true };
    }
    return { ref: { id: streamId(key), labels }, known: false };
  }

  /** Records streams as stored (their rows are in the table). */
  add(tenant: string, refs: readonly StreamRef[]): void {
    const t = this.tenant(tenant);
    for (const r of refs) {
      t.byId.set(r.id, r);
      t.byLabels.set(r.labels, r);
    }
  }

  get(tenant: string, id: bigint): StreamRef | undefined {
    return this.tenants.get(tenant)?.byId.get(id);
  }

  /** The tenant's streams, after reading those created since the last look. */
  async all(tenant: string): Promise<StreamRef[]> {
    await this.refresh(tenant);
    return [...this.tenant(tenant).byId.values()];
  }

  /** Reads the streams created since the last look (all of them the first time). */
  async refresh(tenant: string, minIntervalMs = 0): Promise<void> {
    const t = this.tenant(tenant);
    if (t.loading) return t.loading;
    const now = Date.now();
    if (t.loadedAt > 0 && now - t.loadedAt < minIntervalMs) return;
    const since = t.loadedAt === 0 ? 0 : t.loadedAt - OVERLAP_MS;
    t.loading = this.load(tenant, `created >= ${int(Math.max(0, since))}`).finally(() => {
      t.loading = undefined;
    });
    await t.loading;
    t.loadedAt = now;
  }

  /** Makes sure these ids are known (entries another server wrote). */
  async ensure(tenant: string, ids: Iterable<bigint>): Promise<void> {
    const t = this.tenant(tenant);
    const missing = [...new Set(ids)].filter((id) => !t.byId.has(id));
    if (missing.length === 0) return;
    await this.load(tenant, `stream IN (${missing.map(int).join(', ')})`);
  }

  private async load(tenant: string, condition: string): Promise<void> {
    const t = this.tenant(tenant);
    const chunks = this.http.stream({
      query: `SELECT stream, label_names, label_values FROM ${this.table} WHERE tenant = ${quote(tenant)} AND ${condition} FORMAT RowBinary`,
    });
    for await (const rows of rowBinaryRows(chunks, (r) => ({
      id: r.uint64(),
      names: r.strings(),
      values: r.strings(),
    }))) {
      for (const { id, names, values } of rows) {
        if (t.byId.has(id)) continue;
        t.byId.set(id, { id, labels: pairsRecord(names, values) });
      }
    }
  }

  /** The tenants with streams (for retention). */
  async tenantNames(): Promise<string[]> {
    const out: string[] = [];
    const chunks = this.http.stream({ query: `SELECT DISTINCT tenant FROM ${this.table} FORMAT RowBinary` });
    for await (const rows of rowBinaryRows(chunks, (r) => r.string())) out.push(...rows);
    return out;
  }
}
