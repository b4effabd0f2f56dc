/**
 * @module CRI container logs, as the kubelet's runtimes (containerd, CRI-O) write them:
 * `<RFC 3339 time> <stdout|stderr> <P|F>[:more tags] <content>`. A line longer than the runtime's
 * buffer is split into `P` (partial) pieces ended by an `F` piece; pieces of one stream are joined
 * back into one entry stamped with the time of its first piece, when the line began.
 */
import { containerStreams } from './pod-labels.js';
import { parseRfc3339Fast } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

interface Partial {
  ts: bigint;
  parts: string[];
}

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

export const criParser: ParserFactory = (ctx, sink): LineParser => {
  const streams = containerStreams(ctx);
  const pending = new Map<string, Partial>();
  const emit = (stream: string, ts: bigint, line: string) =>
    sink.entry(streams.labels(stream), ts, line, streams.attributes);
  return {
    line(text, lineNo) {
      const parsed = parseCriLine(text);
      if (typeof parsed === 'string') {
        sink.malformed(lineNo, parsed);
        return;
      }
      const { stream, content } = parsed;
      const open = pending.get(stream);
      if (parsed.partial) {
        if (open) open.parts.push(content);
        else pending.set(stream, { ts: parsed.ts, parts: [content] });
        return;
      }
      if (open) {
        pending.delete(stream);
        open.parts.push(content);
        emit(stream, open.ts, open.parts.join(''));
      } else {
        emit(stream, parsed.ts, content);
      }
    },
    pending() {
      return pending.size > 0;
    },
    end() {
      // A file that ends inside a split line (rotated mid-line) still holds the pieces: keep them.
      for (const [stream, p] of pending) emit(stream, p.ts, p.parts.join(''));
      pending.clear();
    },
  };
};
