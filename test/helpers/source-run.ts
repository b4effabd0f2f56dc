/**
 * @module Running a Source in a test as the agent would: collects its batches and problems, checks
 * that `emit` is never called while an earlier one is pending, and merges positions as the agent
 * saves them once acknowledged.
 */
import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/model/record.js';
import type { Positions, Source, SourceBatch, SourceProblem } from '../../src/sources/source.js';

export interface SourceRun {
  readonly batches: SourceBatch[];
  /** Entries staged through `stageBytes` so far. */
  readonly stagedAsBytes: number;
  readonly problems: Omit<SourceProblem, 'source'>[];
  /** `run`'s promise. */
  readonly done: Promise<void>;
  readonly controller: AbortController;
  records(): LogRecord[];
  /** Bodies emitted so far, in order. */
  bodies(): string[];
  /** Positions merged from every emitted batch over the starting ones (`null` deletes a key). */
  positions(): Record<string, unknown>;
  /** Resolves when `n` records have been emitted (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  waitProblem(reason: string, ms?: number): Promise<void>;
  /** Aborts and waits for `run` to resolve. */
  stop(): Promise<void>;
}

/** Runs `source` from `positions`; `hold`, when given, is awaited inside every `emit`. */
export function runSource(
  source: Source,
  positions: Positions = {},
  hold?: () => Promise<void>,
  /** Offer `stageBytes`, as the agent does without a pipeline (default), or only `stage`. */
  opts: { stageBytes?: boolean } = {},
): SourceRun {
  const batches: SourceBatch[] = [];
  const problems: Omit<SourceProblem, 'source'>[] = [];
  const controller = new AbortController();
  let inFlight = false;
  const staged: LogRecord[] = [];
  const stagedBytes = { n: 0 };
  const done = source.run({
    positions,
    signal: controller.signal,
    problem: (p) => problems.push(p),
    stage(records) {
      assert.ok(!inFlight, 'stage must never be called while an emit is pending');
      staged.push(...records);
    },
    // As the agent offers it without a pipeline: the record is made here, from the bytes, for the test.
    ...(opts.stageBytes === false
      ? {}
      : {
          stageBytes(labels, attributes, timestamp, buf, start, end) {
            assert.ok(!inFlight, 'stageBytes must never be called while an emit is pending');
            stagedBytes.n++;
            staged.push({
              timestamp,
              observedTimestamp: timestamp,
              labels,
              attributes,
              body: buf.toString('utf8', start, end),
            });
          },
        }),
    async emit(batch) {
      assert.ok(!inFlight, 'emit must never be called while an earlier emit is pending');
      inFlight = true;
      try {
        // Staged records belong to this batch, before its own.
        batches.push({ records: [...staged.splice(0), ...batch.records], positions: batch.positions });
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
    get stagedAsBytes() {
      return stagedBytes.n;
    },
    done,
    controller,
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
