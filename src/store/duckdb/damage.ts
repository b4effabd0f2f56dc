/**
 * @module Finding the damaged part behind a failed read. DuckDB's error does not always name the
 * file (a streamed result that fails part-way says nothing at all: engine.ts), so when a read fails
 * for a reason that may be a file's, each part it read that was not read in full before is checked
 * (part-check.ts). A damaged one is marked in the part set, which fails every later read that needs
 * it at once, and logged; the failure then names it. Parts found healthy are remembered (parts never
 * change), and one check runs at a time, on the background engine's memory, so that a burst of
 * failing queries neither reads every part at once nor takes the queries' memory.
 */
import { DamagedDataError } from '../store.js';
import { type DuckDbEngine, IncompleteResultError } from './engine.js';
import { verifyPart } from './part-check.js';
import type { PartSet } from './parts.js';

/** DuckDB errors that say nothing about the files read. */
const NOT_ABOUT_FILES = /Out of Memory|INTERRUPT|Interrupted/i;

export class DamageFinder {
  private readonly healthy = new Set<string>();
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: PartSet,
    /** The engine that reads parts through (the background one). */
    private readonly engine: () => DuckDbEngine,
    private readonly log: (line: string) => void,
  ) {}

  /** Marks a part damaged and says so in the log; `what` adds what follows for it. */
  report(path: string, problem: string, what = 'reads that need it fail'): void {
    this.parts.markDamaged(path, problem);
    this.log(
      `store: part ${this.parts.name(path)} is damaged (${problem}): ${what} until \`kjournal check --repair\``,
    );
  }

  /**
   * Checks `paths` in full; marks and reports the damaged ones and returns them with their reasons.
   * A check that itself ran out of memory or was interrupted proves nothing and marks nothing.
   */
  async check(paths: readonly string[], what?: string): Promise<{ path: string; problem: string }[]> {
    const previous = this.checking;
    let done = (): void => {};
    this.checking = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    try {
      const found: { path: string; problem: string }[] = [];
      for (const path of paths) {
        const known = this.parts.damage(path);
        if (known !== undefined) {
          found.push({ path, problem: known });
          continue;
        }
        if (this.healthy.has(path)) continue;
        const problem = await verifyPart(this.engine(), path);
        if (problem === undefined) this.healthy.add(path);
        else if (!NOT_ABOUT_FILES.test(problem)) {
          this.report(path, problem, what);
          found.push({ path, problem });
        }
      }
      return found;
    } finally {
      done();
    }
  }

  /**
   * A read of `paths` failed with `err`: throws a DamagedDataError naming the damaged parts among
   * them, if any, else `err` as it is.
   */
  async readFailed(err: unknown, paths: readonly string[], signal?: AbortSignal): Promise<never> {
    if (signal?.aborted) throw err;
    // An error that says it was memory or a cancel is passed on; one that says nothing may be a part.
    if (!(err instanceof IncompleteResultError) && NOT_ABOUT_FILES.test((err as Error)?.message ?? ''))
      throw err;
    const damaged = await this.check(paths);
    if (damaged.length > 0) {
      throw new DamagedDataError(
        damaged.map((d) => `part ${this.parts.name(d.path)}`),
        damaged.map((d) => d.problem).join('; '),
        { cause: err },
      );
    }
    throw err;
  }
}
