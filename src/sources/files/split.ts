/**
 * @module Bytes into lines with bounded memory: chunks go in, each complete line comes out with the
 * offset just past its `\n`. A line longer than the limit is not held: it comes out as `null` (once,
 * when its newline arrives) and its bytes are dropped as they are read.
 */

/**
 * A line is `buf[start, stop)` (`buf` is `null` for a line over the limit); `end` is the file offset
 * just past its `\n`. Lines within a chunk are given as the chunk and a range, not a Buffer each:
 * that object per line was measurable garbage on the agent's hottest path.
 */
export type LineCallback = (buf: Buffer | null, start: number, stop: number, end: number) => void;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private dropping = false;
  private readonly maxLineBytes: number;

  constructor(maxLineBytes: number) {
    this.maxLineBytes = Math.max(1, maxLineBytes);
  }

  /** Feeds `chunk`, whose first byte is at `base` in the file. */
  push(chunk: Buffer, base: number, onLine: LineCallback): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const end = base + nl + 1;
      if (this.dropping) {
        this.dropping = false;
        onLine(null, 0, 0, end);
      } else if (this.carryLen > 0) {
        const len = this.carryLen + (nl - start);
        if (len > this.maxLineBytes) onLine(null, 0, 0, end);
        else {
          const line = Buffer.concat([...this.carry, chunk.subarray(start, nl)]);
          onLine(line, 0, line.length, end);
        }
        this.carry = [];
        this.carryLen = 0;
      } else if (nl - start > this.maxLineBytes) {
        onLine(null, 0, 0, end);
      } else {
        onLine(chunk, start, nl, end);
      }
      start = nl + 1;
    }
    if (start < chunk.length && !this.dropping) {
      // Copied: the caller reuses its read buffer.
      this.carry.push(Buffer.from(chunk.subarray(start)));
      this.carryLen += chunk.length - start;
      if (this.carryLen > this.maxLineBytes) {
        this.dropping = true;
        this.carry = [];
        this.carryLen = 0;
      }
    }
  }

  /** Bytes of an unterminated last line held so far (`null` if it was too long). */
  rest(): Buffer | null | undefined {
    if (this.dropping) return null;
    return this.carryLen > 0 ? Buffer.concat(this.carry) : undefined;
  }

  /** Bytes held for the line in progress. */
  get held(): number {
    return this.carryLen;
  }
}
