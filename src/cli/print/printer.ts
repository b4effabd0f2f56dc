/**
 * @module Writing results to stdout with backpressure, and quietly stopping when the reader goes
 * away (`kjournal query … | head`).
 */
import type { Writable } from 'node:stream';

export class Printer {
  private closed = false;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
    });
  }

  /** True once the reader has gone: callers stop fetching. */
  get gone(): boolean {
    return this.closed;
  }

  /** Writes the lines, each ending in a newline, and waits while the stream's buffer is full. */
  async lines(lines: readonly string[]): Promise<void> {
    if (this.closed || lines.length === 0) return;
    await this.text(`${lines.join('\n')}\n`);
  }

  async text(text: string): Promise<void> {
    if (this.closed || text === '') return;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.once('drain', done);
        this.stream.once('error', done);
        this.stream.once('close', done);
      });
    }
  }
}
