/**
 * @module CRI container logs, as the kubelet's runtimes (containerd, CRI-O) write them:
 * `<RFC 3339 time> <stdout|stderr> <P|F>[:more tags] <content>`. A line longer than the runtime's
 * buffer is split into `P` (partial) pieces ended by an `F` piece; pieces of one stream are joined
 * back into one entry stamped with the time of its first piece, when the line began.
 */
import { containerStreams } from './pod-labels.js';
import { SplitLines } from './split-lines.js';
import { parseRfc3339Bytes, parseRfc3339Fast } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

export interface CriLine {
  ts: bigint;
  stream: string;
  partial: boolean;
  content: string;
}

/** Splits one CRI line; a string says why when it is not one. */
export function parseCriLine(text: string): CriLine | string {
  const a = text.indexOf(' ');
  const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
  if (b < 0) return 'not a CRI log line (want "<time> <stream> <tag> <message>")';
  const ts = parseRfc3339Fast(text, a);
  if (ts === undefined) return `bad CRI timestamp ${JSON.stringify(text.slice(0, Math.min(a, 40)))}`;
  // Compared in place: slicing the stream and splitting the tags made garbage on every line.
  const stream =
    b - a === 7 && text.startsWith('stdout', a + 1)
      ? 'stdout'
      : b - a === 7 && text.startsWith('stderr', a + 1)
        ? 'stderr'
        : undefined;
  if (stream === undefined) return `bad CRI stream ${JSON.stringify(text.slice(a + 1, b).slice(0, 20))}`;
  const c = text.indexOf(' ', b + 1);
  const tagsEnd = c < 0 ? text.length : c;
  const tag = text.charCodeAt(b + 1);
  const tagEnd = b + 2;
  if (
    (tag !== 0x50 /* P */ && tag !== 0x46) /* F */ ||
    (tagEnd < tagsEnd && text.charCodeAt(tagEnd) !== 0x3a) /* : */
  ) {
    return `bad CRI tag ${JSON.stringify(text.slice(b + 1, tagsEnd).slice(0, 20))}`;
  }
  return { ts, stream, partial: tag === 0x50, content: c < 0 ? '' : text.slice(c + 1) };
}

/** What parseCriBytes found: written in place, no object per line. */
const found = { ts: 0n, stdout: true, partial: false, content: 0 };

/**
 * parseCriLine on bytes, for the common line only: a runtime's time, `stdout` or `stderr`, a tag,
 * then the content (found.content: where it starts). False for anything else.
 */
function parseCriBytes(buf: Buffer, start: number, stop: number): boolean {
  let a = start;
  const limit = Math.min(stop, start + 40);
  while (a < limit && buf[a] !== 0x20) a++;
  if (a === limit) return false;
  const ts = parseRfc3339Bytes(buf, start, a - start);
  if (ts === undefined) return false;
  // `stdout ` or `stderr `
  if (
    a + 8 > stop ||
    buf[a + 7] !== 0x20 ||
    buf[a + 1] !== 0x73 ||
    buf[a + 2] !== 0x74 ||
    buf[a + 3] !== 0x64
  )
    return false;
  const o = buf[a + 4];
  const u = buf[a + 5];
  const t = buf[a + 6];
  let stdout: boolean;
  if (o === 0x6f && u === 0x75 && t === 0x74) stdout = true;
  else if (o === 0x65 && u === 0x72 && t === 0x72) stdout = false;
  else return false;
  // The tag: P or F, then tags after a colon up to a space, or the end of the line.
  const tag = buf[a + 8];
  if (tag !== 0x50 && tag !== 0x46) return false;
  let c = a + 9;
  if (c < stop && buf[c] !== 0x20) {
    if (buf[c] !== 0x3a) return false;
    while (c < stop && buf[c] !== 0x20) c++;
  }
  found.ts = ts;
  found.stdout = stdout;
  found.partial = tag === 0x50;
  found.content = c < stop ? c + 1 : stop;
  return true;
}

export const criParser: ParserFactory = (ctx, sink): LineParser => {
  const streams = containerStreams(ctx);
  const split = new SplitLines((stream, ts, line) =>
    sink.entry(streams.labels(stream), ts, line, streams.attributes),
  );
  return {
    line(text, lineNo) {
      const parsed = parseCriLine(text);
      if (typeof parsed === 'string') {
        sink.malformed(lineNo, parsed);
        return;
      }
      split.piece(parsed.stream, parsed.ts, parsed.content, !parsed.partial);
    },
    bytes(buf, start, stop, out) {
      // Whole lines only: a piece of a split line, or any line while pieces are held, goes as text.
      if (split.pending() || !parseCriBytes(buf, start, stop) || found.partial) return false;
      out.entryBytes(
        streams.labels(found.stdout ? 'stdout' : 'stderr'),
        found.ts,
        buf,
        found.content,
        stop,
        streams.attributes,
      );
      return true;
    },
    pending: () => split.pending(),
    // A file that ends inside a split line (rotated mid-line) still holds the pieces: keep them.
    end: () => split.flush(),
  };
};
