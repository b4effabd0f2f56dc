/**
 * @module Readers take snapshots of the file set; files retired by conversion, compaction or
 * retention are deleted only once no snapshot older than their retirement is open. Readers never
 * block writers and never see a file vanish under them.
 */
import { rm } from 'node:fs/promises';

export class SnapshotTracker {
  private generation = 0;
  private readonly open = new Map<number, number>();
  private retired: { generation: number; path: string }[] = [];

  /** Marks the start of a read; call the returned function when the read is done. */
  acquire(): () => void {
    const g = this.generation;
    this.open.set(g, (this.open.get(g) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(g) ?? 1) - 1;
      if (left === 0) this.open.delete(g);
      else this.open.set(g, left);
      // A deletion that fails now is retried with the next one; it must never crash the process.
      this.collect().catch(() => undefined);
    };
  }

  /** The files left the live set now; delete them when no earlier reader remains. */
  retire(paths: readonly string[]): Promise<void> {
    this.generation++;
    for (const path of paths) this.retired.push({ generation: this.generation, path });
    return this.collect();
  }

  private async collect(): Promise<void> {
    let oldest = Number.POSITIVE_INFINITY;
    for (const g of this.open.keys()) oldest = Math.min(oldest, g);
    const ready = this.retired.filter((r) => r.generation <= oldest);
    if (ready.length === 0) return;
    this.retired = this.retired.filter((r) => r.generation > oldest);
    const results = await Promise.allSettled(ready.map((r) => rm(r.path, { force: true, recursive: true })));
    results.forEach((res, i) => {
      if (res.status === 'rejected') this.retired.push(ready[i]!);
    });
  }
}
