/**
 * @module The stream catalog: tenants and streams, each given a small sequential id.
 * Persisted as an append-only NDJSON file that is fsynced before any entry that uses a new id is
 * acknowledged, and held in memory: stream matchers are evaluated here, not per row.
 */

import type { FileHandle } from 'node:fs/promises';
import { open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Labels } from '../model/record.js';
import { getOrCreate } from '../util/maps.js';
import { fsyncDir, writeFully } from './fsync.js';
import type { StreamRef } from './store.js';

interface TenantLine {
  readonly tenant: string;
  readonly ti: number;
}
interface StreamLine {
  readonly ti: number;
  readonly id: number;
  readonly labels: Labels;
}

export interface CatalogStream extends StreamRef {
  readonly tenantIndex: number;
}

/** The canonical text of a label set: names sorted, as Loki prints a stream. */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    out += `${i ? ', ' : ''}${n}=${JSON.stringify(labels[n])}`;
  }
  return `${out}}`;
}

export class StreamCatalog {
  private readonly tenants = new Map<string, number>();
  private readonly tenantNames: string[] = [];
  private readonly byKey = new Map<string, CatalogStream>();
  private readonly byTenant = new Map<number, CatalogStream[]>();
  private readonly byId = new Map<number, CatalogStream>();
  private nextStreamId = 1;
  private pending: string[] = [];
  private fh: FileHandle | undefined;
  /** The file's valid length: everything before it was made durable. */
  private fileBytes = 0;

  constructor(private readonly path: string) {}

  async open(): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await (await open(this.path, 'wx')).close();
      await fsyncDir(dirname(this.path));
    }
    // A torn last line can only belong to an append that was never acknowledged.
    const end = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(0, end).split('\n')) {
      if (line) this.load(JSON.parse(line) as TenantLine | StreamLine);
    }
    this.fh = await open(this.path, 'r+');
    this.fileBytes = Buffer.byteLength(text.slice(0, end));
    if (end < text.length) await this.fh.truncate(this.fileBytes);
  }

  private load(line: TenantLine | StreamLine): void {
    if ('tenant' in line) {
      this.tenants.set(line.tenant, line.ti);
      this.tenantNames[line.ti] = line.tenant;
    } else {
      this.addStream(line.ti, line.id, line.labels);
      this.nextStreamId = Math.max(this.nextStreamId, line.id + 1);
    }
  }

  private addStream(ti: number, id: number, labels: Labels): CatalogStream {
    const stream: CatalogStream = { id: BigInt(id), labels, tenantIndex: ti };
    this.byKey.set(`${ti}\u0000${labelsKey(labels)}`, stream);
    this.byId.set(id, stream);
    getOrCreate(this.byTenant, ti, () => []).push(stream);
    return stream;
  }

  tenantIndex(tenant: string): number | undefined {
    return this.tenants.get(tenant);
  }

  tenantName(ti: number): string | undefined {
    return this.tenantNames[ti];
  }

  /** The tenant's index, creating it (to be persisted by the next `commit`) if new. */
  ensureTenant(tenant: string): number {
    let ti = this.tenants.get(tenant);
    if (ti === undefined) {
      ti = this.tenantNames.length;
      this.tenants.set(tenant, ti);
      this.tenantNames[ti] = tenant;
      this.pending.push(`${JSON.stringify({ tenant, ti })}\n`);
    }
    return ti;
  }

  /** The stream for (tenant, labels), creating it (to be persisted by the next `commit`) if new. */
  ensureStream(ti: number, labels: Labels, key = labelsKey(labels)): CatalogStream {
    const found = this.byKey.get(`${ti}\u0000${key}`);
    if (found) return found;
    const id = this.nextStreamId++;
    this.pending.push(`${JSON.stringify({ ti, id, labels })}\n`);
    return this.addStream(ti, id, labels);
  }

  streamsOf(ti: number): readonly CatalogStream[] {
    return this.byTenant.get(ti) ?? [];
  }

  stream(id: number): CatalogStream | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** True when new tenants or streams wait to be made durable. */
  get dirty(): boolean {
    return this.pending.length > 0;
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
