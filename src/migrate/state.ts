/**
 * @module The checkpoint of `kjournal migrate`: an append-only NDJSON file whose first line names the
 * target and whose other lines are the completed units (tenant, day, entries copied), each
 * appended and fsynced once the target acknowledged the whole unit. A run that is interrupted (a
 * signal, kill -9, a lost target) resumes after the last completed unit; the unit it was in is sent
 * again whole, and the target's de-duplication (entries equal in stream, timestamp and line are
 * stored once: Store.append) keeps it from doubling. A torn last line is the unit that was being
 * recorded: it is dropped, and that unit is sent again.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, writeFully } from '../disk/fsync.js';
import { MigrateError } from './errors.js';

export interface DoneUnit {
  readonly tenant: string;
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
  readonly entries: number;
}

const unitKey = (tenant: string, day: string): string => `${tenant}\u0000${day}`;

export class MigrateState {
  private readonly done = new Map<string, DoneUnit>();

  private constructor(
    private readonly path: string,
    private readonly fh: Awaited<ReturnType<typeof open>>,
    private bytes: number,
  ) {}

  /**
   * Opens (or creates) the state of a migration to `target` (a description of the target: its kind
   * and address). A state written for another target is refused: its units say nothing about this
   * one.
   */
  static async open(path: string, target: string): Promise<MigrateState> {
    let buf = Buffer.alloc(0);
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(path), { recursive: true });
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    const lines = buf.toString('utf8', 0, end).split('\n').filter(Boolean);
    const fh = await open(path, buf.length === 0 ? 'w+' : 'r+');
    const state = new MigrateState(path, fh, end);
    try {
      if (lines.length === 0) {
        await state.write(`${JSON.stringify({ target })}\n`);
        await fsyncDir(dirname(path));
        return state;
      }
      const head = JSON.parse(lines[0]!) as { target?: unknown };
      if (head.target !== target) {
        throw new MigrateError(
          'MIGRATE_STATE',
          `${path} records a migration to ${String(head.target)}, not to ${target}: give another --state file or remove it`,
        );
      }
      for (const line of lines.slice(1)) {
        const u = JSON.parse(line) as DoneUnit;
        state.done.set(unitKey(u.tenant, u.day), u);
      }
      // Drop a torn last line: its unit is sent again.
      if (end < buf.length) await fh.truncate(end);
      return state;
    } catch (err) {
      await fh.close();
      if (err instanceof MigrateError) throw err;
      throw new MigrateError(
        'MIGRATE_STATE',
        `${path}: cannot read the migration state: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  private async write(text: string): Promise<void> {
    const buf = Buffer.from(text);
    await writeFully(this.fh, buf, this.bytes);
    await this.fh.datasync();
    this.bytes += buf.length;
  }

  isDone(tenant: string, day: string): boolean {
    return this.done.has(unitKey(tenant, day));
  }

  get completed(): number {
    return this.done.size;
  }

  /** Records a unit as completed, durably, before the next one starts. */
  async complete(unit: DoneUnit): Promise<void> {
    await this.write(`${JSON.stringify(unit)}\n`);
    this.done.set(unitKey(unit.tenant, unit.day), unit);
  }

  get file(): string {
    return this.path;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
