/**
 * @module TCP framing of syslog (RFC 6587), shared by the agent's syslog source and the server's syslog listener, detected per frame: a frame that starts with a digit is
 * octet-counted (`LEN SP MSG`), anything else is LF-terminated (non-transparent framing; a trailing
 * CR is removed by the parser). LF, CR and NUL bytes between frames are skipped, so octet-counted
 * frames followed by a newline (as some senders do) and both framings mixed on one connection work.
 *
 * Faults are reported and the stream is resynchronised; the connection stays open:
 * - `too_long`: an octet count above `maxFrame`, or an LF-terminated frame longer than `maxFrame`.
 *   The count is not trusted; bytes are skipped to the next frame start (below). An over-long LF
 *   frame is skipped up to its LF.
 * - `bad_frame`: a count that is not `DIGITS SP` (or is 0), a counted frame that does not start
 *   with `<` (a PRI), or a count that is visibly wrong: the byte after the counted frame is not a
 *   frame start (the count was too short), or the frame contains the start of another counted frame
 *   (`… 123 <PRI>`, the count was too long). Skipped to the next frame start.
 * So an LF-terminated line must not start with a digit (syslog lines start with `<PRI>`): such a
 * line is taken for a bad count, reported and skipped.
 * Resynchronisation looks for the next `LEN SP <` preceded by a non-digit, or the byte after an LF.
 * A count that is too long, with no further frame behind it, cannot be told from a slow sender:
 * that frame waits for its bytes (bounded by `maxFrame`).
 */

export interface FrameProblem {
  readonly reason: 'too_long' | 'bad_frame';
  readonly message: string;
}

export interface FramerOptions {
  /** Largest frame in bytes (default 64 KiB). */
  readonly maxFrame?: number;
}

export const DEFAULT_MAX_FRAME = 64 * 1024;

const LF = 10;
const CR = 13;
const NUL = 0;
const SP = 32;
const LT = 60;
const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;
/**
 * Whether the bytes at `pos` may begin the next frame (or separate frames): `<`, LF, CR, NUL, or
 * `DIGITS SP <`. Undecidable (not enough bytes yet) counts as yes.
 */
function looksLikeFrameStart(buf: Buffer, pos: number): boolean {
  if (pos >= buf.length) return true;
  const c = buf[pos]!;
  if (c === LT || c === LF || c === CR || c === NUL) return true;
  if (!isDigit(c) || c === 48) return false;
  let i = pos;
  while (i < buf.length && isDigit(buf[i]) && i - pos <= 10) i++;
  if (i >= buf.length) return true;
  if (buf[i] !== SP || i - pos > 10) return false;
  return i + 1 >= buf.length || buf[i + 1] === LT;
}

/** A frame start inside a counted frame: a non-digit, `DIGITS SP <DIGITS>`. */
const EMBEDDED = /[^0-9][1-9][0-9]{0,9} <[0-9]{1,3}>/;

export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Skipping an over-long LF frame up to its LF. */
  private skippingLine = false;
  /** Looking for the next frame start after a fault. */
  private resyncing = false;
  private undecidedAt: number | undefined;
  private readonly maxFrame: number;

  constructor(opts: FramerOptions = {}) {
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Feeds bytes; returns the complete frames (as text) and the faults met. */
  push(chunk: Buffer): { frames: string[]; problems: FrameProblem[] } {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: string[] = [];
    const problems: FrameProblem[] = [];
    let pos = 0;
    const buf = this.buf;
    for (;;) {
      if (this.skippingLine) {
        const lf = buf.indexOf(LF, pos);
        if (lf < 0) {
          pos = buf.length;
          break;
        }
        pos = lf + 1;
        this.skippingLine = false;
      }
      if (this.resyncing) {
        const next = this.resync(buf, pos);
        if (next < 0) {
          // Keep what may be the start of a frame that goes on in the next chunk.
          pos = Math.max(pos, this.undecidedAt ?? buf.length);
          break;
        }
        pos = next;
        this.resyncing = false;
      }
      while (pos < buf.length && (buf[pos] === LF || buf[pos] === CR || buf[pos] === NUL)) pos++;
      if (pos >= buf.length) break;
      if (isDigit(buf[pos])) {
        let i = pos;
        while (i < buf.length && isDigit(buf[i]) && i - pos <= 10) i++;
        if (i >= buf.length) break; // the count goes on in the next chunk
        const digits = buf.toString('latin1', pos, i);
        if (buf[i] !== SP || i - pos > 10 || digits.startsWith('0')) {
          problems.push({
            reason: 'bad_frame',
            message: `bad octet count ${JSON.stringify(preview(buf, pos))}`,
          });
          pos = i;
          this.resyncing = true;
          continue;
        }
        const len = Number(digits);
        if (len > this.maxFrame) {
          problems.push({
            reason: 'too_long',
            message: `octet-counted frame of ${len} bytes, longer than the maximum ${this.maxFrame}`,
          });
          pos = i + 1;
          this.resyncing = true;
          continue;
        }
        const start = i + 1;
        const available = buf.length - start;
        const seen = buf.toString('latin1', start, start + Math.min(len, available));
        const embedded = EMBEDDED.exec(seen.slice(1));
        if (start < buf.length && buf[start] !== LT) {
          problems.push({
            reason: 'bad_frame',
            message: `octet-counted frame without a PRI: ${JSON.stringify(preview(buf, start))}`,
          });
          pos = start;
          this.resyncing = true;
          continue;
        }
        if (embedded) {
          problems.push({
            reason: 'bad_frame',
            message: `wrong octet count ${len}: another frame starts ${embedded.index + 1} bytes into it`,
          });
          // Restart at the embedded frame's count (after its non-digit lead byte).
          pos = start + 1 + embedded.index + 1;
          continue;
        }
        if (available < len) break;
        const after = start + len;
        if (!looksLikeFrameStart(buf, after)) {
          problems.push({
            reason: 'bad_frame',
            message: `wrong octet count ${len}: the frame is followed by ${JSON.stringify(preview(buf, after))}`,
          });
          pos = start;
          this.resyncing = true;
          continue;
        }
        frames.push(buf.toString('utf8', start, after));
        pos = after;
        continue;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) {
        if (buf.length - pos > this.maxFrame) {
          problems.push({
            reason: 'too_long',
            message: `line longer than the maximum ${this.maxFrame} bytes`,
          });
          this.skippingLine = true;
          pos = buf.length;
        }
        break;
      }
      if (lf - pos > this.maxFrame) {
        problems.push({
          reason: 'too_long',
          message: `line of ${lf - pos} bytes, longer than the maximum ${this.maxFrame}`,
        });
      } else {
        frames.push(buf.toString('utf8', pos, lf));
      }
      pos = lf + 1;
    }
    this.buf = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    return { frames, problems };
  }

  /** The index of the next frame start at or after `from` (see the module doc), or -1. */
  private resync(buf: Buffer, from: number): number {
    this.undecidedAt = undefined;
    for (let i = from; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === LF) return i + 1;
      if (isDigit(c) && (i === 0 || !isDigit(buf[i - 1]))) {
        let j = i;
        while (j < buf.length && isDigit(buf[j])) j++;
        if (j + 1 >= buf.length) {
          this.undecidedAt = i; // undecided until more bytes come
          return -1;
        }
        if (buf[j] === SP && buf[j + 1] === LT && buf[i] !== 48) return i;
        i = j - 1;
      }
    }
    return -1;
  }
}

function preview(buf: Buffer, pos: number): string {
  return buf.toString('utf8', pos, Math.min(buf.length, pos + 32));
}
