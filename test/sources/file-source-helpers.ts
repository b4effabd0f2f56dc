/**
 * @module Running a file source in a test: collects batches and problems as the agent would see them.
 */
import assert from 'node:assert/strict';
import type { Positions, Source, SourceBatch, SourceProblem } from '../../src/agent/source.js';
import type { LogRecord } from '../../src/model/record.js';

export interface Run {
  readonly batches: SourceBatch[];
  readonly problems: Omit<SourceProblem, 'source'>[];
  records(): LogRecord[];
  bodies(): string[];
  positions(): Record<string, unknown>;
  waitFor(n: number, ms?: number): Promise<void>;
  waitProblem(reason: string, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export function runSource(source: Source, positions: Positions = {}, hold?: () => Promise<void>): Run {
  const batches: SourceBatch[] = [];
  const problems: Omit<SourceProblem, 'source'>[] = [];
  const controller = new AbortController();
  let inFlight = false;
  const done = source.run({
    positions,
    signal: controller.signal,
    problem: (p) => problems.push(p),
    async emit(batch) {
      assert.ok(!inFlight, 'emit called concurrently');
      inFlight = true;
      try {
        batches.push(batch);
        if (hold) await hold();
      } finally {
        inFlight = false;
      }
    },
  });
  const records = () => batches.flatMap((b) => [...b.records]);
  const until = async (ok: () => boolean, what: () => string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(what());
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    batches,
    problems,
    records,
    bodies: () => records().map((r) => r.body),
    positions() {
      const out: Record<string, unknown> = { ...positions };
      for (const b of batches) {
        for (const [k, v] of Object.entries(b.positions)) {
          if (v === null) delete out[k];
          else out[k] = v;
        }
      }
      return out;
    },
    waitFor: (n, ms = 10_000) =>
      until(
        () => records().length >= n,
        () => `only ${records().length} of ${n} records after ${ms} ms`,
        ms,
      ),
    waitProblem: (reason, ms = 5000) =>
      until(
        () => problems.some((p) => p.reason === reason),
        () => `no ${reason} problem after ${ms} ms: ${JSON.stringify(problems)}`,
        ms,
      ),
    async stop() {
      controller.abort();
      await done;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
