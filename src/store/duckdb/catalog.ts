/**
 * @module The stream catalog: tenants and streams, each given a small sequential id.
 * Persisted as an append-only NDJSON file that is fsynced before any entry that uses a new id is
 * acknowledged, and held in memory: stream matchers are evaluated here, not per row.
 *
 * Each line ends with a tab and the CRC-32 of its JSON (lines of earlier versions have none). A
 * line that fails its check at open is reported and skipped rather than trusted: a flipped bit in a
 * label value must never serve one stream's entries under another's labels. The ids it held stay
 * taken (new ids continue after the greatest seen), and the streams without a line are `lost`:
 * reads leave their entries out, and `lost` says how many there are.
 */

import type { FileHandle } from 'node:fs/promises';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir, writeFully } from '../../disk/fsync.js';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import { getOrCreate } from '../../util/maps.js';
import type { StreamRef } from '../store.js';

interface TenantLine {
  readonly tenant: string;
  readonly ti: number;
}
interface StreamLine {
  readonly ti: number;
  readonly id: number;
  readonly labels: Labels;
}

export class StreamCatalog {
  private readonly tenants = new Map<string, number>();
  private readonly tenantNames = new Map<number, string>();
  private readonly byKey = new Map<string, StreamRef>();
  private readonly byTenant = new Map<number, StreamRef[]>();
  private readonly byId = new Map<number, StreamRef>();
  /**
   * Streams by labels object, per tenant index: the receivers and the push keep one labels object
   * per stream across requests (never changed once made), so a stream's canonical key is built
   * once, not once per request (labelsKey sorts and quotes: a tenth of a bulk request's store time).
   */
  private readonly byObject = new Map<number, WeakMap<Labels, StreamRef>>();
  private nextStreamId = 1;
  private nextTenantIndex = 0;
  /** Lines that failed their check at open. */
  private damagedLines = 0;
  private pending: string[] = [];
  private fh: FileHandle | undefined;
  /** The file's valid length: everything before it was made durable. */
  private fileBytes = 0;

  constructor(private readonly path: string) {}

  async open(): Promise<{ damaged: string[] }> {
    let buf = Buffer.alloc(0);
    try {
      buf = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await (await open(this.path, 'wx')).close();
      await fsyncDir(dirname(this.path));
    }
    // A torn last line can only belong to an append that was never acknowledged.
    const end = buf.lastIndexOf(0x0a) + 1;
    const damaged: string[] = [];
    let lineNo = 0;
    for (let start = 0; start < end; ) {
      const nl = buf.indexOf(0x0a, start);
      lineNo++;
      const line = buf.toString('utf8', start, nl);
      start = nl + 1;
      if (!line) continue;
      const parsed = parseCatalogLine(line);
      if (parsed) this.load(parsed);
      else {
        this.damagedLines++;
        damaged.push(`line ${lineNo}`);
      }
    }
    this.fh = await open(this.path, 'r+');
    this.fileBytes = end;
    if (end < buf.length) await this.fh.truncate(this.fileBytes);
    return { damaged };
  }

  private load(line: TenantLine | StreamLine): void {
    if ('tenant' in line) {
      this.tenants.set(line.tenant, line.ti);
      this.tenantNames.set(line.ti, line.tenant);
      this.nextTenantIndex = Math.max(this.nextTenantIndex, line.ti + 1);
    } else {
      this.addStream(line.ti, line.id, line.labels);
      this.nextStreamId = Math.max(this.nextStreamId, line.id + 1);
    }
  }

  /**
   * Streams whose ids were handed out but whose line is missing or damaged: their entries cannot
   * be served under their labels. Ids are sequential, so a gap is a lost stream.
   */
  get lost(): number {
    return this.nextStreamId - 1 - this.byId.size;
  }

  /** Lines that failed their check at open (reported by `open`). */
  get damaged(): number {
    return this.damagedLines;
  }

  private addStream(ti: number, id: number, labels: Labels): StreamRef {
    const stream: StreamRef = { id: BigInt(id), labels };
    this.byKey.set(`${ti}\u0000${labelsKey(labels)}`, stream);
    this.byId.set(id, stream);
    getOrCreate(this.byTenant, ti, () => []).push(stream);
    return stream;
  }

  tenantIndex(tenant: string): number | undefined {
    return this.tenants.get(tenant);
  }

  /** The tenant of an index. */
  tenantName(ti: number): string | undefined {
    return this.tenantNames.get(ti);
  }

  /** The tenant's index, creating it (to be persisted by the next `commit`) if new. */
  ensureTenant(tenant: string): number {
    let ti = this.tenants.get(tenant);
    if (ti === undefined) {
      // After the greatest index seen, not the count: a damaged line's index stays taken.
      ti = this.nextTenantIndex++;
      this.tenants.set(tenant, ti);
      this.tenantNames.set(ti, tenant);
      this.pending.push(lineOf({ tenant, ti }));
    }
    return ti;
  }

  /** The stream for (tenant, labels), creating it (to be persisted by the next `commit`) if new. */
  ensureStream(ti: number, labels: Labels): StreamRef {
    let objects = this.byObject.get(ti);
    if (objects === undefined) {
      objects = new WeakMap();
      this.byObject.set(ti, objects);
    }
    const known = objects.get(labels);
    if (known) return known;
    let found = this.byKey.get(`${ti}\u0000${labelsKey(labels)}`);
    if (!found) {
      const id = this.nextStreamId++;
      this.pending.push(lineOf({ ti, id, labels }));
      found = this.addStream(ti, id, labels);
    }
    objects.set(labels, found);
    return found;
  }

  /** Every tenant, sorted. */
  tenantList(): string[] {
    return [...this.tenants.keys()].sort();
  }

  streamsOf(ti: number): readonly StreamRef[] {
    return this.byTenant.get(ti) ?? [];
  }

  stream(id: number): StreamRef | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Makes every new tenant and stream durable. Call before acknowledging entries that use them. */
  async commit(): Promise<void> {
    if (this.pending.length === 0 || !this.fh) return;
    const taken = this.pending;
    this.pending = [];
    const buf = Buffer.from(taken.join(''));
    try {
      await writeFully(this.fh, buf, this.fileBytes);
      await this.fh.datasync();
      this.fileBytes += buf.length;
    } catch (err) {
      // Nothing that uses these ids was acknowledged; cut the file back and keep them for the next commit.
      await this.fh.truncate(this.fileBytes).catch(() => undefined);
      this.pending = [...taken, ...this.pending];
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}

/** A catalog line: the JSON, a tab and its CRC-32. */
function lineOf(value: TenantLine | StreamLine): string {
  const json = JSON.stringify(value);
  return `${json}\t${crc32(json)}\n`;
}

/** A line's content if it is well-formed and passes its check (lines without one are older). */
export function parseCatalogLine(line: string): TenantLine | StreamLine | undefined {
  const tab = line.lastIndexOf('\t');
  const json = tab < 0 ? line : line.slice(0, tab);
  if (tab >= 0 && String(crc32(json)) !== line.slice(tab + 1)) return undefined;
  try {
    const v = JSON.parse(json) as Partial<TenantLine & StreamLine>;
    if (typeof v.ti !== 'number') return undefined;
    if (typeof v.tenant === 'string') return { tenant: v.tenant, ti: v.ti };
    if (typeof v.id === 'number' && v.labels && typeof v.labels === 'object') {
      return { ti: v.ti, id: v.id, labels: v.labels };
    }
  } catch {
    // Not JSON: damaged.
  }
  return undefined;
}
