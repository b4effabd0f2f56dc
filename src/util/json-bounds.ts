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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

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
    const text = typeof chunk === 'string';
    const n = chunk.length;
    const { maxDepth, maxValues } = this.bounds;
    let { depth, values, inString, escaped } = this;
    for (let i = 0; i < n; i++) {
      const c = text ? chunk.charCodeAt(i) : chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        else if (c === NEWLINE) {
          // A raw newline cannot be in a JSON string: the string was broken, and what follows is
          // counted (newline-delimited bodies: one broken line does not hide the next ones). The
          // depth stays: a document may span lines, and whatever parses it sees no more than this.
          inString = false;
          escaped = false;
        }
        continue;
      }
      switch (c) {
        case QUOTE:
          inString = true;
          break;
        case OPEN_ARRAY:
        case OPEN_OBJECT:
          if (++depth > maxDepth) throw new JsonBoundsError('too-deep', maxDepth);
          if (++values > maxValues) throw new JsonBoundsError('too-many-values', maxValues);
          break;
        case CLOSE_ARRAY:
        case CLOSE_OBJECT:
          if (depth > 0) depth--;
          break;
        case COMMA:
          if (++values > maxValues) throw new JsonBoundsError('too-many-values', maxValues);
          break;
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
