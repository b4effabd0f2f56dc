/**
 * @module Progress of `kjournal migrate`: a cli-progress bar over the entries to copy when stderr is
 * a terminal (as `kjournal import`'s, src/import/progress.ts), one plain line per completed unit
 * otherwise (CI logs, `2> file`), where a redrawn bar would be noise.
 */
import cliProgress from 'cli-progress';

export type ProgressMode = 'bar' | 'plain' | 'none';

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export class MigrateProgress {
  private bar: cliProgress.SingleBar | undefined;
  private done = 0;
  private lastUpdate = 0;

  constructor(
    private readonly out: ProgressStream,
    private readonly mode: ProgressMode,
  ) {}

  /** The work: `total` entries in `units` units, of which `done` entries were copied before. */
  start(total: number, units: number, done: number): void {
    this.done = done;
    if (this.mode === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.out as NodeJS.WritableStream,
          format: 'migrate [{bar}] {percentage}% | {value}/{total} entries | {unit} | ETA {eta_formatted}',
          hideCursor: true,
          barsize: 20,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, total), done, { unit: '' });
    } else if (this.mode === 'plain') {
      this.out.write(`migrate: ${total} entries in ${units} tenant-days, ${done} copied before\n`);
    }
  }

  /** `n` more entries of the unit `unit` (tenant and day) are in the target. */
  copied(n: number, unit: string): void {
    this.done += n;
    const now = Date.now();
    if (this.bar && now - this.lastUpdate >= 100) {
      this.lastUpdate = now;
      this.bar.update(this.done, { unit });
    }
  }

  /** A unit is complete (and recorded in the state file). */
  unitDone(unit: string, entries: number, index: number, units: number): void {
    if (this.mode === 'plain') {
      this.out.write(`migrate: ${unit}: ${entries} entries copied (${index}/${units})\n`);
    }
  }

  /** A message on its own line, the bar redrawn below it. */
  log(message: string): void {
    if (this.bar) {
      this.out.write(`\r\x1b[K${message}\n`);
      this.bar.render();
    } else if (this.mode !== 'none') this.out.write(`${message}\n`);
  }

  stop(): void {
    if (this.bar) {
      this.bar.update(this.done);
      this.bar.stop();
    }
    this.bar = undefined;
  }
}
