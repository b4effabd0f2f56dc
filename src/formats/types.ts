/**
 * @module What a format parser sees and produces. Parsers are line-driven and synchronous: the reader
 * owns I/O, gzip and line numbers, so each format is only "text in, entries or a complaint out".
 */
import type { Attributes, Labels } from '../model/record.js';

export const FORMATS = ['cri', 'docker', 'json', 'logfmt', 'audit', 'events'] as const;
export type FormatName = (typeof FORMATS)[number];

/** What the path says about a pod log file (see pod-path.ts). */
export interface PodLogMeta {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly uid?: string;
  readonly restartCount?: number;
  readonly containerId?: string;
}

export interface FileContext {
  readonly path: string;
  readonly pod?: PodLogMeta;
  /**
   * The time given to a line that carries none (a JSON or logfmt line without a time field), plus
   * its line number in nanoseconds so such lines keep their order and stay distinct: `kjournal
   * import` passes the file's modification time (`--missing-time mtime`), the same on every import
   * of the file, so importing it again repeats no line. Undefined: such lines are not loaded.
   */
  readonly missingTimeNs?: bigint;
}

export interface ParseSink {
  /**
   * One log entry. Parsers should hand the same `labels`/`attributes` objects for entries of one stream:
   * the batcher caches per object.
   */
  entry(labels: Labels, ts: bigint, line: string, attributes?: Attributes): void;
  /** A line that cannot be loaded, by its 1-based number in the file. */
  malformed(lineNo: number, reason: string): void;
  /**
   * A line that carries no time: `stamped` when it was given `FileContext.missingTimeNs` (its entry
   * follows), else skipped. A sink without this method is told of a skipped one as malformed.
   */
  untimed?(lineNo: number, stamped: boolean): void;
}

/** Where a parser reading a line as bytes puts an entry whose line is `buf[start, end)` (UTF-8). */
export interface BytesSink {
  entryBytes(
    labels: Labels,
    ts: bigint,
    buf: Buffer,
    start: number,
    end: number,
    attributes?: Attributes,
  ): void;
}

export interface LineParser {
  /** `text` has no line terminator; a trailing `\r` (CRLF file) is still there. */
  line(text: string, lineNo: number): void;
  /**
   * Optional fast path: the same line as valid UTF-8 bytes `buf[start, stop)`, taken without a
   * string when the parser can (the agent's tailer offers it). False to have it passed to `line`
   * instead, which then sees it, and reports it, as for any line.
   */
  bytes?(buf: Buffer, start: number, stop: number, sink: BytesSink): boolean;
  /** End of file: emit what is pending (an unterminated partial line). */
  end(): void;
  /** True while pieces of a split line are held (a tailer saves positions only when none are). */
  pending?(): boolean;
}

export type ParserFactory = (ctx: FileContext, sink: ParseSink) => LineParser;
