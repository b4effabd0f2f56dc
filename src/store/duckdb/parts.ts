/**
 * @module Parquet parts on disk: `parts/t<tenant index>/<YYYY-MM-DD>/<first>-<last>[.g<gen>].parquet`,
 * where first..last is the range of write-ahead-log segments the part holds, and `gen` counts the
 * times a part was rewritten with rows taken out (a deletion, a retention rule: rewrite.ts); a new
 * name, since a reader's cached footer of the old file must never be taken for the new one. Ranges
 * in one day never overlap, which makes crash recovery a matter of deleting any part contained in
 * another (a compaction that finished writing but not deleting its inputs; an older generation of a
 * rewritten part) or newer than the last conversion recorded as complete.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { getOrCreate } from '../../util/maps.js';
import { checkPartEnds } from './part-check.js';

export interface Part {
  readonly tenantIndex: number;
  readonly day: string;
  readonly first: number;
  readonly last: number;
  readonly path: string;
  readonly bytes: number;
  /** How many times the part was rewritten (absent: never). */
  readonly gen?: number;
}

const PART_NAME = /^(\d{12})-(\d{12})(?:\.g(\d{1,9}))?\.parquet$/;
const TENANT_DIR = /^t(\d+)$/;
const DAY_DIR = /^\d{4}-\d{2}-\d{2}$/;

/** The greatest `last` of the parts on disk (0 if none), read from their names alone. */
export async function lastConvertedOnDisk(root: string): Promise<number> {
  let max = 0;
  const names = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
  for (const t of await names(root)) {
    if (!TENANT_DIR.test(t)) continue;
    for (const day of await names(join(root, t))) {
      if (!DAY_DIR.test(day)) continue;
      for (const name of await names(join(root, t, day))) {
        const m = PART_NAME.exec(name);
        if (m) max = Math.max(max, Number(m[2]));
      }
    }
  }
  return max;
}

export function partFileName(first: number, last: number, gen = 0): string {
  const range = `${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}`;
  return gen > 0 ? `${range}.g${gen}.parquet` : `${range}.parquet`;
}

export class PartSet {
  /** tenant index → day → parts sorted by `first`. */
  private readonly byTenant = new Map<number, Map<string, Part[]>>();
  /**
   * Parts known to be damaged, with the reason: they stay in the set (their data is not silently
   * left out of answers), and every read that needs one fails naming it, until `kjournal check
   * --repair` moves it aside.
   */
  private readonly damagedParts = new Map<string, string>();

  constructor(readonly root: string) {}

  /** A part's name for messages: its path under the parts directory. */
  name(path: string): string {
    return relative(this.root, path);
  }

  markDamaged(path: string, reason: string): void {
    this.damagedParts.set(path, reason);
  }

  /** The reason a part is damaged, if it is. */
  damage(path: string): string | undefined {
    return this.damagedParts.get(path);
  }

  get damagedCount(): number {
    return this.damagedParts.size;
  }

  dayDir(tenantIndex: number, day: string): string {
    return join(this.root, `t${tenantIndex}`, day);
  }

  /** Loads the parts on disk, deleting leftovers of interrupted work (see the module comment). */
  async open(convertedThrough: number): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const t of await readdir(this.root)) {
      const tm = TENANT_DIR.exec(t);
      if (!tm) continue;
      const ti = Number(tm[1]);
      for (const day of await readdir(join(this.root, t))) {
        if (!DAY_DIR.test(day)) continue;
        const dir = join(this.root, t, day);
        const found: Part[] = [];
        for (const name of await readdir(dir)) {
          const m = PART_NAME.exec(name);
          const path = join(dir, name);
          if (!m) {
            if (name.endsWith('.tmp')) await rm(path, { force: true });
            continue;
          }
          const first = Number(m[1]);
          const last = Number(m[2]);
          if (last > convertedThrough) {
            await rm(path, { force: true });
            continue;
          }
          const gen = Number(m[3] ?? 0);
          found.push({ tenantIndex: ti, day, first, last, path, bytes: (await stat(path)).size, gen });
          // Only the two ends are read at start: a full check of months of parts would delay it.
          const problem = await checkPartEnds(path);
          if (problem) this.damagedParts.set(path, problem);
        }
        for (const p of found) {
          const container = found.find(
            (o) =>
              o !== p &&
              o.first <= p.first &&
              o.last >= p.last &&
              (o.first !== p.first || o.last !== p.last || (o.gen ?? 0) > (p.gen ?? 0)),
          );
          if (container) {
            await rm(p.path, { force: true });
          } else {
            this.add(p);
          }
        }
      }
    }
  }

  add(part: Part): void {
    const days = getOrCreate(this.byTenant, part.tenantIndex, () => new Map<string, Part[]>());
    const list = days.get(part.day) ?? [];
    const kept = list.filter((p) => p.path !== part.path);
    kept.push(part);
    kept.sort((a, b) => a.first - b.first);
    days.set(part.day, kept);
  }

  remove(parts: readonly Part[]): void {
    for (const part of parts) {
      this.damagedParts.delete(part.path);
      const days = this.byTenant.get(part.tenantIndex);
      const list = days?.get(part.day);
      if (!days || !list) continue;
      const kept = list.filter((p) => p.path !== part.path);
      if (kept.length) days.set(part.day, kept);
      else days.delete(part.day);
    }
  }

  /** Parts of a tenant on the days that overlap [fromDay, toDay] (inclusive, `YYYY-MM-DD`). */
  select(tenantIndex: number, fromDay: string, toDay: string): Part[] {
    const days = this.byTenant.get(tenantIndex);
    if (!days) return [];
    const out: Part[] = [];
    for (const [day, parts] of days) if (day >= fromDay && day <= toDay) out.push(...parts);
    return out;
  }

  /** Every (tenant, day) with its parts. */
  *days(): Generator<{ tenantIndex: number; day: string; parts: readonly Part[] }> {
    for (const [tenantIndex, days] of this.byTenant) {
      for (const [day, parts] of days) yield { tenantIndex, day, parts };
    }
  }

  get bytes(): number {
    let n = 0;
    for (const { parts } of this.days()) for (const p of parts) n += p.bytes;
    return n;
  }
}
