/**
 * @module Test-only sources for `kjournal agent` (never in src): a counter that emits numbered lines
 * with the position `{ next }`, resuming from it, so a restarted run continues exactly where the
 * acknowledged (or buffered) batches ended.
 */

import type { LogRecord } from '../../src/model/record.js';
import type { Source, SourceContext } from '../../src/sources/source.js';

export interface CounterOptions {
  readonly name?: string;
  /** Lines in all; the source then idles until aborted. Infinity: never stops. */
  readonly total: number;
  readonly perBatch?: number;
  /** Pause between batches. */
  readonly delayMs?: number;
  /** Timestamp of line 0, in ns; line i is base + i µs. */
  readonly baseNs: bigint;
  readonly labels?: Record<string, string>;
  /** The body of line i (default `line <i>`). */
  readonly body?: (i: number) => string;
}

export class CounterSource implements Source {
  readonly name: string;
  /** Lines handed to emit and taken. */
  taken = 0;
  /** True while an emit is pending. */
  waiting = false;
  /** Lines beyond this are not produced yet (raise it to go on). */
  allow = Number.POSITIVE_INFINITY;

  constructor(readonly o: CounterOptions) {
    this.name = o.name ?? 'counter';
  }

  async run(ctx: SourceContext): Promise<void> {
    let next = typeof ctx.positions.next === 'number' ? ctx.positions.next : 0;
    const per = this.o.perBatch ?? 10;
    const labels = this.o.labels ?? { job: 'counter' };
    const body = this.o.body ?? ((i: number) => `line ${i}`);
    while (!ctx.signal.aborted && next < this.o.total) {
      if (next >= this.allow) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const records: LogRecord[] = [];
      const end = Math.min(this.o.total, this.allow, next + per);
      for (let i = next; i < end; i++) {
        const ts = this.o.baseNs + BigInt(i) * 1000n;
        records.push({ timestamp: ts, observedTimestamp: ts, labels, attributes: {}, body: body(i) });
      }
      this.waiting = true;
      try {
        await ctx.emit({ records, positions: { next: end } });
      } catch (err) {
        if (ctx.signal.aborted) return;
        throw err;
      } finally {
        this.waiting = false;
      }
      this.taken += records.length;
      next = end;
      if (this.o.delayMs) await new Promise((r) => setTimeout(r, this.o.delayMs));
    }
    if (!ctx.signal.aborted) {
      await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
    }
  }
}
