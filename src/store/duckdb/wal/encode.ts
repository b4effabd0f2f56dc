/**
 * @module Records as write-ahead-log lines, encoded straight into one Buffer per append. A line is
 * eight fields separated by the unit separator (0x1F) and ended by a newline, read by DuckDB as
 * CSV without quoting (sql.ts `readWal`):
 *
 *     tenant ␟ stream ␟ n ␟ time ␟ observed ␟ attributes ␟ e ␟ body
 *
 * An append's lines end with a trailer line, the record's checksum, in the same eight fields so
 * that DuckDB reads it as a row (tenant -1, which no selection or conversion takes):
 *
 *     -1 ␟ crc32 ␟ last n ␟ length ␟ 0 ␟ ␟ 0 ␟
 *
 * `length` is the bytes of the record's lines before the trailer, `crc32` their CRC-32 (zlib's),
 * `last n` the record's greatest sequence number. Replay checks every record (verify.ts): a
 * damaged one is never served, a torn last one (no trailer) was never acknowledged. One checksum
 * per append, as Prometheus's WAL has one per record of many samples: a checksum per line cost a
 * tenth of a core at the bench's ingest rate.
 *
 * Numbers are decimal integers; attributes are a JSON object, or empty. The body is written as it
 * is (`e` = 0) unless it holds a newline, a carriage return, a NUL or the separator: then it is a
 * JSON string literal (`e` = 1). Log lines seldom hold those, so most bodies are copied, not
 * escaped: escaping every body as JSON (the first format, NDJSON) took twice as long per line and
 * made the log 20% larger (bench, agent phase: JSON log lines are full of quotes). Strings are made
 * well-formed first: a lone surrogate would make the whole segment unreadable to DuckDB.
 */
import { crc32 } from 'node:zlib';
import type { Attributes } from '../../../model/record.js';

/** The tenant field of a record's trailer line. */
export const TRAILER_TENANT = -1;

export function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

/**
 * Whether a body must be written as a JSON string rather than as it is. Four searches for one
 * character each: a third of the time of one regular expression with the four in a class.
 */
function needsEscape(s: string): boolean {
  return s.includes('\n') || s.includes('\r') || s.includes('\u001f') || s.includes('\u0000');
}

/** An attributes object's text, and the line's fields after the time as last made with it. */
interface AttrText {
  readonly text: string;
  readonly ascii: boolean;
  observed?: bigint;
  suffixes?: [string, string];
}

/** Attributes objects whose text one WalLines keeps. */
const TEXTS_KEPT = 4096;

/** A string JSON writes as it is between quotes: printable ASCII without `"` and `\\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The attributes field: JSON text, or empty. Written by hand: keys and values are nearly always
 * plain ASCII, quoted as they are; any other string goes through JSON.stringify (made well-formed
 * first). Building a clean copy for JSON.stringify and caching its text per object in a WeakMap
 * was a tenth of an OTLP request's time (every OTLP record has attributes of its own: severity,
 * observed time), and the WeakMap's entries cost the collector more; an object's text is made
 * once per append by WalLines, which keeps it for the append only.
 */
export function attributesText(attributes: Attributes): { text: string; ascii: boolean } {
  let text = '';
  let ascii = true;
  for (const k in attributes) {
    const v = attributes[k]!;
    let ks: string;
    let vs: string;
    if (PLAIN.test(k)) ks = `"${k}"`;
    else {
      ks = JSON.stringify(wellFormed(k));
      ascii = false;
    }
    if (PLAIN.test(v)) vs = `"${v}"`;
    else {
      vs = JSON.stringify(wellFormed(v));
      ascii = false;
    }
    text += text === '' ? `{${ks}:${vs}` : `,${ks}:${vs}`;
  }
  return text === '' ? { text: '', ascii: true } : { text: `${text}}`, ascii };
}

/** The lines of one append, in one growing Buffer. */
export class WalLines {
  private buf: Buffer;
  private pos = 0;
  /**
   * The fields before `n` (tenant, stream) and after the time (observed, attributes, `e`) of the
   * last line: runs of records share them, so a line's head is four pieces, not fifteen.
   */
  private lastStream = -1n;
  private prefix = '';
  private lastObserved = -1n;
  private lastAttributes: Attributes | undefined | null = null;
  /** This append's entry for records without attributes (its suffixes are its own). */
  private readonly none: AttrText = { text: '', ascii: true };
  private attrs: AttrText = this.none;
  private suffixes: [string, string] = ['', ''];
  /**
   * The texts made by this append, by attributes object: records of one stream interleave shared
   * objects (a journal host's units: the intake groups by stream, not by attributes), more than a
   * ring of the last 16 held (the bench's upload missed it for nearly half its lines, each a new
   * text). Held only for the append, so not weak (a weak map cost the collector for OTLP's
   * one-off objects).
   */
  private readonly texts = new Map<Attributes, AttrText>();
  constructor(
    private readonly tenantIndex: number,
    /** Expected bytes (grown as needed). */
    estimate: number,
    /** A buffer to write into, if large enough (one of an earlier append, now written). */
    reuse?: Buffer,
  ) {
    this.buf = reuse && reuse.length >= estimate ? reuse : Buffer.allocUnsafe(Math.max(4096, estimate));
  }

  /** The whole buffer written into (for reuse once the lines are written). */
  get buffer(): Buffer {
    return this.buf;
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
      this.prefix = `${this.tenantIndex}\x1f${stream}\x1f`;
    }
    // Records without attributes may each have an empty object of their own: one key for all.
    let attrKey: Attributes | undefined;
    for (const _ in attributes) {
      attrKey = attributes;
      break;
    }
    if (observed !== this.lastObserved || attrKey !== this.lastAttributes) {
      this.lastObserved = observed;
      this.lastAttributes = attrKey;
      const a = attrKey === undefined ? this.none : this.textOf(attrKey);
      // The fields after the time, kept with the attributes' text: a stream's records come back
      // to the same few objects at one observed time (a journal upload's piece), so they are
      // made once per object and time, not at every change of object.
      if (a.observed !== observed || a.suffixes === undefined) {
        const mid = `\x1f${observed}\x1f${a.text}\x1f`;
        a.suffixes = [`${mid}0\x1f`, `${mid}1\x1f`];
        a.observed = observed;
      }
      this.attrs = a;
      this.suffixes = a.suffixes;
    }
    const attrs = this.attrs;
    const clean = wellFormed(body);
    const asJson = needsEscape(clean);
    const text = asJson ? JSON.stringify(clean) : clean;
    // Everything before the body in one string, written as Latin-1 unless the attributes are not ASCII.
    const head = `${this.prefix}${n}\x1f${timestamp}${this.suffixes[asJson ? 1 : 0]}`;
    // A UTF-16 unit is at most 3 UTF-8 bytes.
    this.ensure((attrs.ascii ? head.length : head.length * 3) + text.length * 3 + 1);
    const buf = this.buf;
    const start = this.pos;
    let pos = start + buf.write(head, start, attrs.ascii ? 'latin1' : 'utf8');
    pos += buf.write(text, pos, 'utf8');
    buf[pos++] = 0x0a;
    this.pos = pos;
    return pos - start;
  }

  /** The text of an attributes object, made once per append (the first TEXTS_KEPT objects). */
  private textOf(attributes: Attributes): AttrText {
    let text = this.texts.get(attributes);
    if (text === undefined) {
      text = attributesText(attributes);
      if (this.texts.size < TEXTS_KEPT) this.texts.set(attributes, text);
    }
    return text;
  }

  /** Appends lines already encoded (whole lines, as salvage.ts keeps them). */
  raw(lines: Buffer): void {
    this.ensure(lines.length);
    this.pos += lines.copy(this.buf, this.pos);
  }

  /**
   * Ends the record: appends its trailer (checksum of every line so far, `lastN` its greatest
   * sequence number). Called once, after the last `add`.
   */
  finish(lastN: number): void {
    const length = this.pos;
    const sum = crc32(this.buf.subarray(0, length));
    const trailer = `${TRAILER_TENANT}\x1f${sum}\x1f${lastN}\x1f${length}\x1f0\x1f\x1f0\x1f\n`;
    this.ensure(trailer.length);
    this.pos += this.buf.write(trailer, this.pos, 'latin1');
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
