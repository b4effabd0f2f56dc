/**
 * @module Progress for long imports: a cli-progress bar over the total file size when stderr is a
 * terminal, a plain line every few seconds otherwise (CI logs, `2> file`), where a redrawn bar
 * would be noise.
 */
import cliProgress from 'cli-progress';

export type ProgressMode = 'bar' | 'plain' | 'none';

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export const formatMB = (bytes: number): string => (bytes / 1e6).toFixed(1);

export function formatBytes(bytes: number): string {
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly out: ProgressStream;
  private readonly totalBytes: number;
  private readonly started = Date.now();
  private bytes = 0;
  private lines = 0;
  private lastUpdate = 0;
  private multi: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(out: ProgressStream, totalBytes: number, mode: ProgressMode, plainEveryMs = 5000) {
    this.out = out;
    this.totalBytes = totalBytes;
    if (mode === 'bar') {
      this.multi = new cliProgress.MultiBar(
        {
          stream: out as NodeJS.WritableStream,
          format: 'import [{bar}] {percentage}% | {lines} lines | {speed} MB/s | ETA {eta_formatted}',
          hideCursor: true,
          barsize: 20,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.multi.create(Math.max(1, totalBytes), 0, { lines: 0, speed: '0.0' });
    } else if (mode === 'plain') {
      this.timer = setInterval(() => this.out.write(`${this.plainLine()}\n`), plainEveryMs);
      this.timer.unref();
    }
  }

  private elapsedS(): number {
    return Math.max(1e-3, (Date.now() - this.started) / 1000);
  }

  plainLine(): string {
    const s = this.elapsedS();
    const rate = this.bytes / s;
    const pct = this.totalBytes > 0 ? Math.min(100, (100 * this.bytes) / this.totalBytes) : 100;
    const eta = rate > 0 ? (this.totalBytes - this.bytes) / rate : Number.POSITIVE_INFINITY;
    return (
      `import: ${pct.toFixed(0)}% ${formatMB(this.bytes)}/${formatMB(this.totalBytes)} MB, ` +
      `${this.lines} lines, ${formatMB(rate)} MB/s, ETA ${formatSeconds(Math.max(0, eta))}`
    );
  }

  /** Cumulative bytes read and lines seen. */
  update(bytes: number, lines: number): void {
    this.bytes = bytes;
    this.lines = lines;
    if (this.bar === undefined) return;
    const now = Date.now();
    if (now - this.lastUpdate < 100) return;
    this.lastUpdate = now;
    this.bar.update(bytes, { lines, speed: formatMB(bytes / this.elapsedS()) });
  }

  /** A message on its own line, above the bar when there is one. */
  log(message: string): void {
    if (this.multi) this.multi.log(`${message}\n`);
    else this.out.write(`${message}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.bar && this.multi) {
      this.bar.update(this.bytes, { lines: this.lines, speed: formatMB(this.bytes / this.elapsedS()) });
      this.multi.stop();
    }
    this.multi = undefined;
    this.bar = undefined;
  }
}
