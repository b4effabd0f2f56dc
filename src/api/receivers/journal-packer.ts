/**
 * @module A journal upload's entries written straight into packed records (./decode-packed.ts),
 * the form a decode worker sends back: the export format read by field (formats/journal-export.ts
 * ExportReader), and each entry's record (the time, MESSAGE, the journal fields as attributes,
 * Kata's own fields, `node` from `_HOSTNAME`) made as formats/journal-records.ts `entryRecord`
 * makes it, without an entry map, a record object or a second pass to pack them.
 *
 * The fields that repeat (host, unit, identifier, boot id...) are found again by their bytes: a
 * value already seen is not decoded again, and a set of values already seen is one attributes set
 * across the upload's pieces (the main thread interns it: one object, one WAL text). Why: for the
 * bench's upload (200,000 entries in 256 KiB pieces) the worker spent 2.7-2.9 µs an entry parsing
 * into maps, making records and packing them, most of it in decoding the same few values, building
 * objects and looking them up again; 2.2-2.3 µs with this (/tmp microbenchmark of the bench's
 * captured upload, 51,769 entries).
 */
import { Buffer } from 'node:buffer';
import { ExportReader, type ExportSink, type FieldName } from '../../formats/journal-export.js';
import {
  ENTRY_RECORD_FIELDS,
  isKataIdentifier,
  JOURNAL_ATTRIBUTES,
  kataAttributes,
} from '../../formats/journal-records.js';
import type { Labels } from '../../model/record.js';
import { HttpError } from '../http/errors.js';
import { type PackedRecords, packTime, transferOf } from './decode-packed.js';

/** The fields read, by slot (ENTRY_RECORD_FIELDS: the time, the message, the attributes'). */
const FIELDS = ENTRY_RECORD_FIELDS;
const TIME = 0;
const MESSAGE = 1;
const FIRST_ATTRIBUTE = 2;
const ATTRIBUTE_FIELDS = FIELDS.slice(FIRST_ATTRIBUTE);
const ATTRIBUTE_NAMES = ATTRIBUTE_FIELDS.map((f) => JOURNAL_ATTRIBUTES[f]!);
const ATTRIBUTES = ATTRIBUTE_FIELDS.length;
const HOST = ATTRIBUTE_FIELDS.indexOf('_HOSTNAME');
const IDENTIFIER = ATTRIBUTE_FIELDS.indexOf('SYSLOG_IDENTIFIER');
/**
 * Values and sets one table holds before it is dropped whole, and the longest value it keeps (a
 * longer one is decoded each time, and its set is not kept): at most about 20 MiB of values.
 */
const MAX_VALUES = 10_000;
const MAX_SETS = 10_000;
const MAX_KEPT_VALUE_BYTES = 1024;
/** A realtime of up to this many digits is read as a Number (exact below 2^53). */
const NUMBER_DIGITS = 15;

/** A field's value: its bytes and its text, kept to be found again unless it is too long. */
interface Value {
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly id: number;
  readonly kept: boolean;
  readonly next: Value | undefined;
}

const NO_BYTES = new Uint8Array(0);

/** A set of attribute values met before (by their values' ids), and its place in this piece. */
interface AttrSet {
  readonly ids: Int32Array;
  readonly shape: number;
  readonly values: string[];
  readonly next: AttrSet | undefined;
  piece: number;
  index: number;
}

/** A host's labels, and their place in this piece. */
interface Host {
  readonly labels: Labels;
  piece: number;
  index: number;
}

function sameBytes(a: Uint8Array, buf: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

/**
 * What the uploads of one worker (or one handler) share, bounded: values and attribute sets by
 * their bytes, a host's labels.
 */
export class JournalTables {
  constructor(
    private readonly maxValues = MAX_VALUES,
    private readonly maxSets = MAX_SETS,
  ) {}

  private values = new Map<number, Value>();
  private valueCount = 0;
  private nextId = 0;
  private sets = new Map<number, AttrSet>();
  private setCount = 0;
  private readonly hosts = new Map<string, Host>();
  /** The names of each shape (the attributes present, as bits by attribute). */
  private readonly shapes = new Map<number, string[]>();

  value(buf: Buffer, start: number, end: number): Value {
    if (end - start > MAX_KEPT_VALUE_BYTES) {
      const text = buf.toString('utf8', start, end);
      return { bytes: NO_BYTES, text, id: this.nextId++, kept: false, next: undefined };
    }
    let h = end - start;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const first = this.values.get(h);
    for (let v = first; v !== undefined; v = v.next) if (sameBytes(v.bytes, buf, start, end)) return v;
    if (this.valueCount >= this.maxValues) {
      // Dropped whole; the sets go too (they are keyed by the values' ids, never given again).
      this.values = new Map();
      this.valueCount = 0;
      this.sets = new Map();
      this.setCount = 0;
      return this.value(buf, start, end);
    }
    const made: Value = {
      bytes: Uint8Array.prototype.slice.call(buf, start, end),
      text: buf.toString('utf8', start, end),
      id: this.nextId++,
      kept: true,
      next: first,
    };
    this.values.set(h, made);
    this.valueCount++;
    return made;
  }

  /** The set of `values` (an attribute's value or undefined, by slot); `shape` the bits present. */
  set(values: readonly (Value | undefined)[], shape: number): AttrSet {
    let h = shape;
    let kept = true;
    for (let a = 0; a < ATTRIBUTES; a++) {
      const v = values[a];
      h = (Math.imul(h, 31) + (v?.id ?? -1)) | 0;
      if (v?.kept === false) kept = false;
    }
    const first = kept ? this.sets.get(h) : undefined;
    for (let s = first; s !== undefined; s = s.next) {
      if (s.shape !== shape) continue;
      let same = true;
      for (let a = 0; a < ATTRIBUTES && same; a++) same = s.ids[a] === (values[a]?.id ?? -1);
      if (same) return s;
    }
    if (this.setCount >= this.maxSets) {
      this.sets = new Map();
      this.setCount = 0;
      return this.set(values, shape);
    }
    const ids = new Int32Array(ATTRIBUTES);
    const texts: string[] = [];
    for (let a = 0; a < ATTRIBUTES; a++) {
      const v = values[a];
      ids[a] = v === undefined ? -1 : v.id;
      if (v !== undefined) texts.push(v.text);
    }
    const made: AttrSet = { ids, shape, values: texts, next: first, piece: -1, index: -1 };
    if (!kept) return made;
    this.sets.set(h, made);
    this.setCount++;
    return made;
  }

  /** The names of a shape, in the attributes' order. */
  names(shape: number): string[] {
    let names = this.shapes.get(shape);
    if (names === undefined) {
      names = ATTRIBUTE_NAMES.filter((_, a) => (shape & (1 << a)) !== 0);
      this.shapes.set(shape, names);
    }
    return names;
  }

  host(name: string): Host {
    let host = this.hosts.get(name);
    if (host === undefined) {
      if (this.hosts.size >= 10_000) this.hosts.clear();
      const labels: Labels = { kind: 'log', source: 'journal', ...(name !== '' ? { node: name } : {}) };
      host = { labels, piece: -1, index: -1 };
      this.hosts.set(name, host);
    }
    return host;
  }
}

/** Pieces packed by any JournalPacker (a piece's number marks what it has listed). */
let pieces = 0;

/** One upload's entries, packed piece by piece. */
export class JournalPacker implements ExportSink {
  private readonly reader: ExportReader;
  /** The current entry's fields, by slot: their offsets, and whether this entry has them. */
  private readonly starts = new Int32Array(FIELDS.length);
  private readonly ends = new Int32Array(FIELDS.length);
  private readonly has = new Uint8Array(FIELDS.length);
  /** The last value of each attribute (tried first: the next entry's is often the same). */
  private readonly lastValue: (Value | undefined)[] = new Array(ATTRIBUTES).fill(undefined);
  private readonly entryValues: (Value | undefined)[] = new Array(ATTRIBUTES).fill(undefined);
  /** The piece being packed (each push makes one). */
  private out!: PieceOut;

  constructor(private readonly tables: JournalTables) {
    this.reader = new ExportReader(this, { keep: new Set(FIELDS) });
  }

  /**
   * The entries `chunk` completes (and, with `end`, the last one), packed, `observed` their time.
   * An entry of more than `maxEntryBytes` (complete, or so far) is a 413 naming the limit, whatever
   * the pieces the body came in.
   */
  push(chunk: Buffer, observed: bigint, end: boolean, maxEntryBytes: number): PackedPiece {
    this.out = new PieceOut(observed);
    if (chunk.length > 0) this.reader.push(chunk);
    if (this.reader.largestEntry > maxEntryBytes) {
      throw new HttpError(413, `journal entry too large: limit is ${maxEntryBytes} bytes (--max-body-size)`);
    }
    if (end) this.reader.end();
    return this.out.done();
  }

  field(f: FieldName, _buf: Buffer, start: number, end: number): void {
    this.starts[f.slot] = start;
    this.ends[f.slot] = end;
    this.has[f.slot] = 1;
  }

  shift(by: number): void {
    for (let s = 0; s < FIELDS.length; s++) {
      this.starts[s]! -= by;
      this.ends[s]! -= by;
    }
  }

  corrupt(reason: string): void {
    this.has.fill(0);
    this.out.corrupt(reason);
  }

  entry(buf: Buffer): void {
    const has = this.has;
    const out = this.out;
    const time = has[TIME] === 1 ? realtime(buf, this.starts[TIME]!, this.ends[TIME]!) : undefined;
    if (time === undefined) {
      has.fill(0);
      out.corrupt('entry without a valid __REALTIME_TIMESTAMP');
      return;
    }
    const message = has[MESSAGE] === 1 ? buf.toString('utf8', this.starts[MESSAGE], this.ends[MESSAGE]) : '';
    const values = this.entryValues;
    let shape = 0;
    for (let a = 0; a < ATTRIBUTES; a++) {
      const slot = FIRST_ATTRIBUTE + a;
      if (has[slot] !== 1) {
        values[a] = undefined;
        continue;
      }
      const start = this.starts[slot]!;
      const end = this.ends[slot]!;
      const last = this.lastValue[a];
      const v =
        last !== undefined && sameBytes(last.bytes, buf, start, end)
          ? last
          : this.tables.value(buf, start, end);
      this.lastValue[a] = v.kept ? v : undefined;
      values[a] = v;
      shape |= 1 << a;
    }
    has.fill(0);
    const host = this.tables.host(values[HOST]?.text ?? '');
    if (isKataIdentifier(values[IDENTIFIER]?.text ?? '')) {
      // A Kata component's line: its own fields besides (formats/journal-records.ts).
      const own: Record<string, string> = {};
      for (let a = 0; a < ATTRIBUTES; a++) {
        const v = values[a];
        if (v !== undefined) own[ATTRIBUTE_NAMES[a]!] = v.text;
      }
      Object.assign(own, kataAttributes(message));
      out.record(time, message, host, out.ownSet(own));
      return;
    }
    out.record(time, message, host, shape === 0 ? -1 : out.sharedSet(this.tables, values, shape));
  }
}

/** A piece's records, packed, and its corrupt entries (count, first reasons). */
export interface PackedPiece {
  readonly packed: PackedRecords;
  readonly transfer: ArrayBuffer[];
  readonly corrupt: number;
  readonly reasons: string[];
}

/** Corrupt entries named in an answer (and sent back by a worker per piece). */
export const JOURNAL_MAX_REASONS = 10;

/** The microseconds of a realtime field (1 to 20 digits) as nanoseconds; undefined if not one. */
function realtime(buf: Buffer, start: number, end: number): bigint | undefined {
  const digits = end - start;
  if (digits < 1 || digits > 20) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return (digits <= NUMBER_DIGITS ? BigInt(n) : BigInt(buf.toString('latin1', start, end))) * 1000n;
}

/** One piece's packed records, as they are made. */
class PieceOut {
  private readonly number = pieces++;
  private readonly lines: string[] = [];
  private readonly lineBytes: number[] = [];
  private readonly timestamps: bigint[] = [];
  private readonly labelSets: Labels[] = [];
  private readonly labelOf: number[] = [];
  private readonly attrShapes: string[][] = [];
  /** A shape's place in attrShapes, by its bits (shared sets) or its names (a Kata line's). */
  private readonly shapeOf = new Map<number | string, number>();
  private readonly attrShapeOf: number[] = [];
  private readonly attrValues: string[] = [];
  private readonly attrOf: number[] = [];
  private corrupted = 0;
  private readonly reasons: string[] = [];

  constructor(private readonly observed: bigint) {}

  corrupt(reason: string): void {
    this.corrupted++;
    if (this.reasons.length < JOURNAL_MAX_REASONS) this.reasons.push(reason);
  }

  record(time: bigint, message: string, host: Host, set: number): void {
    if (host.piece !== this.number) {
      host.piece = this.number;
      host.index = this.labelSets.length;
      this.labelSets.push(host.labels);
    }
    this.lines.push(message);
    this.lineBytes.push(Buffer.byteLength(message, 'utf8'));
    this.timestamps.push(time);
    this.labelOf.push(host.index);
    this.attrOf.push(set);
  }

  /** A shared set's place in this piece (listed at its first record here). */
  sharedSet(tables: JournalTables, values: readonly (Value | undefined)[], shape: number): number {
    const set = tables.set(values, shape);
    if (set.piece !== this.number) {
      set.piece = this.number;
      set.index = this.attrShapeOf.length;
      let at = this.shapeOf.get(shape);
      if (at === undefined) {
        at = this.attrShapes.length;
        this.attrShapes.push(tables.names(shape));
        this.shapeOf.set(shape, at);
      }
      this.attrShapeOf.push(at);
      for (const v of set.values) this.attrValues.push(v);
    }
    return set.index;
  }

  /** A set of this record's own (listed now). */
  ownSet(attributes: Record<string, string>): number {
    const names = Object.keys(attributes);
    const key = names.join('\n');
    let at = this.shapeOf.get(key);
    if (at === undefined) {
      at = this.attrShapes.length;
      this.attrShapes.push(names);
      this.shapeOf.set(key, at);
    }
    this.attrShapeOf.push(at);
    for (const k of names) this.attrValues.push(attributes[k]!);
    return this.attrShapeOf.length - 1;
  }

  done(): PackedPiece {
    const n = this.lines.length;
    const timestamps = new BigInt64Array(n);
    const wide: [number, bigint][] = [];
    for (let i = 0; i < n; i++) packTime(timestamps, wide, i, this.timestamps[i]!);
    const packed: PackedRecords = {
      lines: this.lines,
      lineBytes: Uint32Array.from(this.lineBytes),
      timestamps,
      ...(wide.length > 0 ? { wideTimes: wide } : {}),
      observed: new BigInt64Array(0),
      ...(n > 0 ? { observedAll: this.observed } : {}),
      labelSets: this.labelSets,
      labelOf: Uint32Array.from(this.labelOf),
      attrShapes: this.attrShapes,
      attrShapeOf: Uint32Array.from(this.attrShapeOf),
      attrValues: this.attrValues,
      attrOf: Int32Array.from(this.attrOf),
    };
    return { packed, transfer: transferOf(packed), corrupt: this.corrupted, reasons: this.reasons };
  }
}
