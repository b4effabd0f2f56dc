/**
 * @module The agent's positions store: one JSON file, `<state-dir>/positions.json`, replaced
 * atomically (write a temporary file, fsync it, rename, fsync the directory), so that after a crash
 * it holds either the previous or the next state, never a mix.
 *
 * It keeps, in that one file, each source's positions (a source sees only its own keys) and
 * `ackedBatch`: the id of the last buffered batch the server acknowledged. Both change in the same
 * atomic write, which is what lets the buffer (buffer.ts) drop exactly the acknowledged batches on
 * restart and the sources resume exactly where those batches ended.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Positions } from '../sources/source.js';
import { mkdirDurable, writeFileAtomic } from '../store/fsync.js';

export const POSITIONS_FILE = 'positions.json';

interface StateFile {
  readonly version: 1;
  readonly ackedBatch: number;
  readonly sources: Record<string, Record<string, unknown>>;
}

/** One batch's contribution: the positions it reaches, for the source that emitted it. */
export interface PositionUpdate {
  readonly source: string;
  readonly positions: Positions;
}

/** Merges `update` into `into` in place: a key mapped to `null` is deleted. */
export function mergePositions(into: Record<string, unknown>, update: Positions): void {
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete into[k];
    else into[k] = v;
  }
}

export class PositionsStore {
  readonly path: string;
  private sources: Record<string, Record<string, unknown>> = {};
  private acked = 0;
  /** How many times the file was written (for metrics and tests). */
  saves = 0;

  constructor(readonly stateDir: string) {
    this.path = join(stateDir, POSITIONS_FILE);
  }

  /** Reads the file if there is one; a missing file is a fresh start, a corrupt one an error. */
  async load(): Promise<void> {
    await mkdirDurable(this.stateDir);
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let parsed: Partial<StateFile>;
    try {
      parsed = JSON.parse(text) as Partial<StateFile>;
    } catch (err) {
      throw new Error(`${this.path}: not valid JSON (${(err as Error).message})`);
    }
    if (parsed.version !== 1 || typeof parsed.ackedBatch !== 'number' || typeof parsed.sources !== 'object') {
      throw new Error(`${this.path}: not a kjournal agent positions file (version 1)`);
    }
    this.acked = parsed.ackedBatch;
    this.sources = parsed.sources ?? {};
  }

  /** The id of the last batch the server acknowledged (0: none yet). */
  get ackedBatch(): number {
    return this.acked;
  }

  /** A copy of one source's saved positions. */
  get(source: string): Record<string, unknown> {
    return { ...(this.sources[source] ?? {}) };
  }

  /**
   * After the server acknowledged batches up to `ackedBatch`: merges their positions, in order, and
   * writes the file durably. Resolves once the new state is on disk.
   */
  async commit(ackedBatch: number, updates: readonly PositionUpdate[]): Promise<void> {
    // Copied, not changed in place: the state stays the old one if the write fails. Only the
    // sources updated are copied (a pod source holds a position per file).
    const next: Record<string, Record<string, unknown>> = { ...this.sources };
    const copied = new Set<string>();
    for (const u of updates) {
      if (!copied.has(u.source)) {
        copied.add(u.source);
        next[u.source] = { ...this.sources[u.source] };
      }
      mergePositions(next[u.source]!, u.positions);
    }
    const state: StateFile = { version: 1, ackedBatch: Math.max(this.acked, ackedBatch), sources: next };
    await writeFileAtomic(this.path, JSON.stringify(state));
    this.sources = next;
    this.acked = state.ackedBatch;
    this.saves++;
  }
}
