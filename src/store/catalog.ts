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
  private readonly byKey = new Map<string, StreamRef>();
  private readonly byTenant = new Map<number, StreamRef[]>();
  private readonly byId = new Map<number, StreamRef>();
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
    } else {
      this.addStream(line.ti, line.id, line.labels);
      this.nextStreamId = Math.max(this.nextStreamId, line.id + 1);
    }
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

  /** The tenant's index, creating it (to be persisted by the next `commit`) if new. */
  ensureTenant(tenant: string): number {
    let ti = this.tenants.get(tenant);
    if (ti === undefined) {
      ti = this.tenants.size;
      this.tenants.set(tenant, ti);
      this.pending.push(`${JSON.stringify({ tenant, ti })}\n`);
    }
    return ti;
  }

  /** The stream for (tenant, labels), creating it (to be persisted by the next `commit`) if new. */
  ensureStream(ti: number, labels: Labels): StreamRef {
    const found = this.byKey.get(`${ti}\u0000${labelsKey(labels)}`);
    if (found) return found;
    const id = this.nextStreamId++;
    this.pending.push(`${JSON.stringify({ ti, id, labels })}\n`);
    return this.addStream(ti, id, labels);
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
