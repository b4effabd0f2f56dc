/**
 * @module Checking a write-ahead-log segment record by record (the trailers of encode.ts): which
 * byte ranges are vouched for by a valid checksum, which are damaged, and how much of the end is a
 * torn write. Used at replay and by `kjournal check`.
 *
 * A trailer vouches for the `length` bytes before it. A record is good when its trailer parses, its
 * bytes start at or after the end of the previous good record, and their CRC-32 matches. Bytes
 * between two good records are damaged (a flipped bit, a lost or altered trailer). Bytes after the
 * last good record are a torn write (an append cut short by a crash, never acknowledged) unless a
 * trailer among them failed its check: then they are damaged too, since a trailer is only written
 * after the lines it covers.
 */
import { crc32 } from 'node:zlib';
import { TRAILER_TENANT } from './encode.js';

export interface SegmentScan {
  /** Byte ranges [start, end) of the good records, in order (adjacent ones joined). */
  readonly good: readonly (readonly [number, number])[];
  readonly goodBytes: number;
  /** Damaged regions: bytes no valid trailer vouches for, with what was wrong. */
  readonly damaged: readonly { readonly offset: number; readonly bytes: number }[];
  /** Bytes after the last good record that look like a torn write. */
  readonly tornBytes: number;
  /** The greatest sequence number of the good records (0 if none). */
  readonly maxN: number;
  /** Good records. */
  readonly records: number;
}

const PREFIX = Buffer.from(`${TRAILER_TENANT}\x1f`);
const DIGITS = /^\d{1,16}$/;

/** A trailer line's checksum, greatest n and length; undefined when it is not one. */
function parseTrailer(line: string): { crc: number; lastN: number; length: number } | undefined {
  const f = line.split('\x1f');
  if (f.length !== 8 || f[4] !== '0' || f[5] !== '' || f[6] !== '0' || f[7] !== '') return undefined;
  const [, crc, lastN, length] = f as [string, string, string, string];
  if (!DIGITS.test(crc) || !DIGITS.test(lastN) || !DIGITS.test(length)) return undefined;
  return { crc: Number(crc), lastN: Number(lastN), length: Number(length) };
}

export function scanSegment(buf: Buffer): SegmentScan {
  const good: [number, number][] = [];
  const damaged: { offset: number; bytes: number }[] = [];
  let goodEnd = 0;
  let goodBytes = 0;
  let maxN = 0;
  let records = 0;
  /** End of the last trailer after `goodEnd` that failed its check. */
  let badTrailerEnd = -1;
  let lineStart = 0;
  while (lineStart < buf.length) {
    const nl = buf.indexOf(0x0a, lineStart);
    if (nl < 0) break;
    if (buf.compare(PREFIX, 0, PREFIX.length, lineStart, lineStart + PREFIX.length) === 0) {
      const t = parseTrailer(buf.toString('latin1', lineStart, nl));
      const start = t ? lineStart - t.length : -1;
      if (t && start >= goodEnd && crc32(buf.subarray(start, lineStart)) === t.crc) {
        if (start > goodEnd) damaged.push({ offset: goodEnd, bytes: start - goodEnd });
        const end = nl + 1;
        const last = good[good.length - 1];
        if (last && last[1] === start) last[1] = end;
        else good.push([start, end]);
        goodBytes += end - start;
        goodEnd = end;
        badTrailerEnd = -1;
        maxN = Math.max(maxN, t.lastN);
        records++;
      } else {
        badTrailerEnd = nl + 1;
      }
    }
    lineStart = nl + 1;
  }
  let tornBytes = buf.length - goodEnd;
  if (badTrailerEnd > goodEnd) {
    damaged.push({ offset: goodEnd, bytes: badTrailerEnd - goodEnd });
    tornBytes = buf.length - badTrailerEnd;
  }
  return { good, goodBytes, damaged, tornBytes, maxN, records };
}

/** The good records of a scanned segment, as one buffer. */
export function goodBytesOf(buf: Buffer, scan: SegmentScan): Buffer {
  return Buffer.concat(scan.good.map(([s, e]) => buf.subarray(s, e)));
}
