/**
 * @module Records as write-ahead-log lines, encoded straight into one Buffer per append. Short keys
 * keep the log small; numbers are written as JSON integers (DuckDB reads them exactly as BIGINT).
 * Strings are made well-formed first: a lone surrogate would make the whole segment unreadable to
 * DuckDB's JSON reader.
 *
 * Building each line as a string, joining them and encoding the whole took twice as long and made
 * most of the server's garbage (bench, agent phase): here only the body's JSON text is a new string.
 */
import type { Attributes } from '../../model/record.js';

export function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

/** `,"a":<attributes as a JSON string>,"b":` by attributes object: a file's or push's records share one. */
const attributeParts = new WeakMap<Attributes, Buffer>();
const NO_ATTRIBUTES = Buffer.from(',"a":"","b":', 'latin1');
const LINE_END = 0x7d0a; // '}\n'

function attributesPart(attributes: Attributes): Buffer {
  for (const _ in attributes) {
    let part = attributeParts.get(attributes);
    if (part === undefined) {
      const clean: Record<string, string> = {};
      for (const [k, v] of Object.entries(attributes)) clean[wellFormed(k)] = wellFormed(v);
      part = Buffer.from(`,"a":${JSON.stringify(JSON.stringify(clean))},"b":`, 'utf8');
      attributeParts.set(attributes, part);
    }
    return part;
  }
  return NO_ATTRIBUTES;
}

/** The lines of one append, in one growing Buffer. */
export class WalLines {
  private buf: Buffer;
  private pos = 0;
  /** The text of the last stream id and observed time, which runs of records share. */
  private lastStream = -1n;
  private streamText = '';
  private lastObserved = -1n;
  private observedText = '';

  constructor(
    private readonly tenantIndex: number,
    /** Expected bytes (grown as needed). */
    estimate: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, estimate));
  }

  /** Appends one line; returns its length in bytes, newline included. */
  add(
    stream: bigint,
    n: number,
    timestamp: bigint,
    observed: bigint,
    attributes: Attributes,
    body: string,
  ): number {
    if (stream !== this.lastStream) {
      this.lastStream = stream;
      this.streamText = stream.toString();
    }
    if (observed !== this.lastObserved) {
      this.lastObserved = observed;
      this.observedText = observed.toString();
    }
    const head = `{"g":${this.tenantIndex},"s":${this.streamText},"n":${n},"t":${timestamp},"o":${this.observedText}`;
    const attrs = attributesPart(attributes);
    const text = JSON.stringify(wellFormed(body));
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    this.ensure(head.length + attrs.length + text.length * 3 + 2);
    const start = this.pos;
    let pos = start + this.buf.write(head, start, 'latin1');
    pos += attrs.copy(this.buf, pos);
    pos += this.buf.write(text, pos, 'utf8');
    this.buf.writeUInt16BE(LINE_END, pos);
    this.pos = pos + 2;
    return this.pos - start;
  }

  get bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(room: number): void {
    if (this.pos + room <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + room));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}
