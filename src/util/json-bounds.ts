/**
 * @module Depth and size bounds on JSON text, checked by a small byte scanner before (or while)
 * anything parses it.
 *
 * `JSON.parse` in V8 is iterative: it does not overflow the stack on deep input, it allocates
 * instead. A 60 KB gzip push of `[[[[…` (tens of MB once inflated) took the server to 3.4 GB and
 * stalled it for 12 s; a body of `[],[],…` built tens of millions of arrays and ran the heap out.
 * The scanner refuses such text before any value is built, holding only a few counters: it can be
 * fed chunk by chunk as a body arrives or inflates, so a bomb is refused after its first kilobytes.
 *
 * The depth limit is Elasticsearch's: its JSON parser (Jackson 2.15+ `StreamReadConstraints`,
 * DEFAULT_MAX_DEPTH) refuses "Document nesting depth (1001) exceeds the maximum allowed (1000)".
 * The value limit bounds what `JSON.parse` may build (measured at 25-70 bytes of heap per value),
 * counted as the containers opened plus the commas outside strings (at least the values present).
 */

/** Elasticsearch's (Jackson's) nesting limit. */
export const MAX_JSON_DEPTH = 1000;
/** About 2 million values: at most ~130 MB of heap for `JSON.parse`, far above what clients send. */
export const MAX_JSON_VALUES = 2_000_000;

export interface JsonBounds {
  readonly maxDepth: number;
  readonly maxValues: number;
}

export const DEFAULT_JSON_BOUNDS: JsonBounds = { maxDepth: MAX_JSON_DEPTH, maxValues: MAX_JSON_VALUES };

export type JsonBoundsCode = 'too-deep' | 'too-many-values';

/** JSON text beyond a bound; `code` says which. */
export class JsonBoundsError extends Error {
  override readonly name = 'JsonBoundsError';
  readonly code: JsonBoundsCode;
  readonly limit: number;

  constructor(code: JsonBoundsCode, limit: number) {
    super(
      code === 'too-deep'
        ? `JSON nesting depth exceeds the maximum allowed (${limit})`
        : `JSON body holds more than ${limit} values, the maximum allowed`,
    );
    this.code = code;
    this.limit = limit;
  }
}

// Byte classes: 0 for every byte that changes nothing (one table look-up per byte: 64 MB scan in
// about half a second on a slow core).
const QUOTE = 1;
const BACKSLASH = 2;
const OPEN = 3;
const CLOSE = 4;
const COMMA = 5;
const NEWLINE = 6;
const CLASS = new Uint8Array(256);
CLASS[0x22] = QUOTE;
CLASS[0x5c] = BACKSLASH;
CLASS[0x5b] = OPEN;
CLASS[0x7b] = OPEN;
CLASS[0x5d] = CLOSE;
CLASS[0x7d] = CLOSE;
CLASS[0x2c] = COMMA;
CLASS[0x0a] = NEWLINE;
/** The bytes that end a run inside a string: quote, backslash, newline. */
const STRING_END = new Uint8Array(256);
STRING_END[0x22] = 1;
STRING_END[0x5c] = 1;
STRING_END[0x0a] = 1;
/** Bytes of a string looked at one by one before a native search. */
const STRING_RUN = 64;

/**
 * Tracks depth and values outside strings across chunks. It does not validate JSON (the parser does
 * that afterwards); it only guarantees that whatever parses the text builds a bounded tree.
 * Structural characters are ASCII, so bytes (UTF-8) and UTF-16 code units scan alike.
 */
export class JsonBoundsScanner {
  private depth = 0;
  private values = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly bounds: JsonBounds = DEFAULT_JSON_BOUNDS) {}

  /** Scans the next chunk; throws JsonBoundsError as soon as a bound is passed. */
  write(chunk: Uint8Array | string): void {
    if (typeof chunk !== 'string') {
      this.scan(chunk, chunk.length);
      return;
    }
    // Strings (tests, small texts) go through a byte copy of at most 64 KiB at a time.
    const buf = new Uint8Array(Math.min(chunk.length, 1 << 16));
    for (let off = 0; off < chunk.length; off += buf.length) {
      const n = Math.min(buf.length, chunk.length - off);
      // Only ASCII matters: other code units map to a byte that is none of the structural ones.
      for (let i = 0; i < n; i++) {
        const c = chunk.charCodeAt(off + i);
        buf[i] = Math.min(c, 0x80);
      }
      this.scan(buf, n);
    }
  }

  private scan(bytes: Uint8Array, n: number): void {
    const { maxDepth, maxValues } = this.bounds;
    let { depth, values, inString, escaped } = this;
    // Inside a string only a quote, a backslash or a newline matters. Most strings of log bodies
    // are short (keys, levels, names): a byte loop finds their end (STRING_END look-ups) without a
    // native call; past STRING_RUN bytes the scan jumps with indexOf (a native search). The next
    // backslash and newline are remembered, so that a body without any is searched for them once,
    // not once per long string. Measured on bulk bodies of Fluent Bit documents: 550 MB/s against
    // 390-440 with indexOf for every string, and 270 with a byte loop alone.
    let nextBackslash = -2;
    let nextNewline = -2;
    let i = 0;
    while (i < n) {
      if (escaped) {
        escaped = false; // whatever byte it is, it is escaped
        i++;
        continue;
      }
      if (inString) {
        let j = i;
        const run = Math.min(n, i + STRING_RUN);
        while (j < run && STRING_END[bytes[j]!] === 0) j++;
        if (j === run && j < n) {
          j = bytes.indexOf(0x22, run);
          if (j < 0 || j > n) j = n;
          if (nextBackslash !== -1 && nextBackslash < run) nextBackslash = bytes.indexOf(0x5c, run);
          if (nextBackslash >= 0 && nextBackslash < j) j = nextBackslash;
          if (nextNewline !== -1 && nextNewline < run) nextNewline = bytes.indexOf(0x0a, run);
          if (nextNewline >= 0 && nextNewline < j) j = nextNewline;
        }
        if (j >= n) break;
        // A backslash escapes the next byte. A raw newline cannot be in a JSON string: the string
        // was broken, and what follows is counted (newline-delimited bodies: one broken line does
        // not hide the next ones). The depth stays: a document may span lines, and whatever parses
        // it sees no more than this.
        if (bytes[j] === 0x5c) escaped = true;
        else inString = false;
        i = j + 1;
        continue;
      }
      const k = CLASS[bytes[i++]!]!;
      if (k === 0 || k === NEWLINE || k === BACKSLASH) continue;
      if (k === QUOTE) inString = true;
      else if (k === OPEN) {
        if (++depth > maxDepth) throw new JsonBoundsError('too-deep', maxDepth);
        if (++values > maxValues) throw new JsonBoundsError('too-many-values', maxValues);
      } else if (k === CLOSE) {
        if (depth > 0) depth--;
      } else if (k === COMMA) {
        if (++values > maxValues) throw new JsonBoundsError('too-many-values', maxValues);
      }
    }
    this.depth = depth;
    this.values = values;
    this.inString = inString;
    this.escaped = escaped;
  }
}

/** Checks a whole text at once (see JsonBoundsScanner). */
export function checkJsonBounds(text: Uint8Array | string, bounds: JsonBounds = DEFAULT_JSON_BOUNDS): void {
  new JsonBoundsScanner(bounds).write(text);
}
