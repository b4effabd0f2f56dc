/**
 * @module Decoded records in the form a decode worker sends them back (./decode-pool.ts): the
 * lines as one array of strings, the times in BigInt64Arrays (transferred, not copied), the label
 * sets and attribute sets each once per request, referenced by index. Why: structured clone of one
 * object per record (five properties, a labels and an attributes object each) costs the main
 * thread about what decoding inline costs; measured on 2,000-record OTLP/JSON bodies of 470 KB,
 * the main thread was busy 3.5-3.9 ms per body receiving plain records and 1.3-2.0 ms receiving
 * this form (inline decoding: 3.9-5.6 ms). The lines stay separate
 * strings (not one joined string cut into slices): a slice keeps its whole parent alive wherever a
 * line is kept (the store's latest line per stream).
 *
 * On the main thread each label set is interned (`SetInterner` kept by the receiver across
 * requests), so a stream's labels are the same object request after request: the intake's caches
 * (normalised labels, checked labels) are keyed by that object.
 */
import { Buffer } from 'node:buffer';
import type { BulkAction, BulkItem } from '../../formats/es-bulk/bulk.js';
import type { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Attributes, Labels } from '../../model/record.js';

/** The position of `key` in `table` (indexed by `index`), `value` appended when `key` is new. */
function positionOf<K, V>(index: Map<K, number>, table: V[], key: K, value: V): number {
  let at = index.get(key);
  if (at === undefined) {
    at = table.length;
    table.push(value);
    index.set(key, at);
  }
  return at;
}

export interface PackedRecords {
  readonly lines: string[];
  /** Each line's UTF-8 length, measured here so the main thread does not (the intake needs it). */
  readonly lineBytes: Uint32Array;
  readonly timestamps: BigInt64Array;
  /**
   * The times that do not fit a BigInt64Array (it would wrap them: a year-2300 `@timestamp` or a
   * 20-digit journal realtime could land on a valid time), by record, as they are: the intake then
   * refuses them as the inline decoding's records are refused.
   */
  readonly wideTimes?: [number, bigint][];
  /** Each record's observed time; empty when they all have `observedAll` (one `now` a request). */
  readonly observed: BigInt64Array;
  readonly observedAll?: bigint;
  /** Distinct label sets of the request, and each record's. */
  readonly labelSets: Labels[];
  readonly labelOf: Uint32Array;
  /** Distinct attribute names lists; each attribute set's list; the sets' values in order. */
  readonly attrShapes: string[][];
  readonly attrShapeOf: Uint32Array;
  readonly attrValues: string[];
  /** Each record's attribute set, -1 for none. */
  readonly attrOf: Int32Array;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** `t` as record `i`'s time: in `times`, or in `wide` when `times` would wrap it. */
export function packTime(times: BigInt64Array, wide: [number, bigint][], i: number, t: bigint): void {
  if (t > INT64_MAX || t < INT64_MIN) wide.push([i, t]);
  else times[i] = t;
}

/** The buffers of a packed form that a worker transfers (not copies) to the main thread. */
export function transferOf(p: PackedRecords): ArrayBuffer[] {
  return [
    p.lineBytes.buffer,
    p.timestamps.buffer,
    p.observed.buffer,
    p.labelOf.buffer,
    p.attrOf.buffer,
    p.attrShapeOf.buffer,
  ] as ArrayBuffer[];
}

/** The packed form of `records`, and the buffers to transfer. */
export function packRecords(records: readonly RawRecord[]): {
  packed: PackedRecords;
  transfer: ArrayBuffer[];
} {
  const n = records.length;
  const lines = new Array<string>(n);
  const lineBytes = new Uint32Array(n);
  const timestamps = new BigInt64Array(n);
  const wide: [number, bigint][] = [];
  const first = n > 0 ? records[0]!.observedTimestamp : 0n;
  let oneObserved = true;
  for (let i = 1; i < n && oneObserved; i++) oneObserved = records[i]!.observedTimestamp === first;
  // One observed time for all (a request's `now`): sent once, and one BigInt on the main thread
  // instead of one per record.
  const observed = new BigInt64Array(oneObserved ? 0 : n);
  const labelOf = new Uint32Array(n);
  const attrOf = new Int32Array(n);
  const labelSets: Labels[] = [];
  const labelIndex = new Map<Labels, number>();
  const shapes: string[][] = [];
  const shapeIndex = new Map<string, number>();
  const setShapes: number[] = [];
  const attrValues: string[] = [];
  // An attributes object shared by records (interned by the decoder) is sent once.
  const attrIndex = new Map<Attributes, number>();
  // The last set's names and shape: records of one source have the same names in the same order
  // (an OTLP scope's, with a fresh observed_timestamp each), found again without a key.
  let lastNames: string[] = [];
  let lastShape = -1;
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    lines[i] = r.body;
    lineBytes[i] = Buffer.byteLength(r.body, 'utf8');
    packTime(timestamps, wide, i, r.timestamp);
    if (!oneObserved) observed[i] = r.observedTimestamp;
    labelOf[i] = positionOf(labelIndex, labelSets, r.labels, r.labels);
    const a = r.attributes;
    let s = a === undefined ? -1 : attrIndex.get(a);
    if (s === undefined) {
      names.length = 0;
      const from = attrValues.length;
      for (const k in a) {
        names.push(k);
        attrValues.push(a![k]!);
      }
      if (names.length === 0) {
        // No attributes is none at all (a bulk document whose fields all became labels).
        s = -1;
      } else {
        let same = names.length === lastNames.length;
        for (let k = 0; same && k < names.length; k++) same = names[k] === lastNames[k];
        if (!same) {
          let key = '';
          for (const k of names) key += `${k.length}:${k}`;
          lastNames = names.slice();
          lastShape = positionOf(shapeIndex, shapes, key, lastNames);
        }
        s = setShapes.length;
        setShapes.push(lastShape);
      }
      attrIndex.set(a!, s);
      if (s < 0) attrValues.length = from;
    }
    attrOf[i] = s;
  }
  const attrShapeOf = Uint32Array.from(setShapes);
  const packed: PackedRecords = {
    lines,
    lineBytes,
    timestamps,
    ...(wide.length > 0 ? { wideTimes: wide } : {}),
    observed,
    ...(oneObserved && n > 0 ? { observedAll: first } : {}),
    labelSets,
    labelOf,
    attrShapes: shapes,
    attrShapeOf,
    attrValues,
    attrOf,
  };
  return { packed, transfer: transferOf(packed) };
}

/**
 * The records again, label sets interned in `labelSets`, and attribute sets in `attributeSets`
 * when given: a journal upload's pieces each bring their own copy of a unit's fields, and one
 * object per set across pieces is what the store's caches (the record check's, the WAL text's)
 * find again.
 */
export function unpackRecords(
  p: PackedRecords,
  labelSets: SetInterner<Labels>,
  attributeSets?: SetInterner<Attributes>,
): RawRecord[] {
  const labels = p.labelSets.map((l) => labelSets.intern(l));
  const sets = new Array<Attributes>(p.attrShapeOf.length);
  // Only sets that records share are interned: a one-off (a Kata line's own fields) would cost a
  // key and a table entry for nothing.
  let uses: Uint32Array | undefined;
  if (attributeSets) {
    uses = new Uint32Array(sets.length);
    for (const a of p.attrOf) if (a >= 0) uses[a]!++;
  }
  let v = 0;
  for (let s = 0; s < sets.length; s++) {
    const names = p.attrShapes[p.attrShapeOf[s]!]!;
    const set: Record<string, string> = {};
    for (const k of names) set[k] = p.attrValues[v++]!;
    sets[s] = attributeSets && uses![s]! > 1 ? attributeSets.intern(set) : set;
  }
  const n = p.lines.length;
  const all = p.observedAll;
  const out = new Array<RawRecord>(n);
  for (let i = 0; i < n; i++) {
    const a = p.attrOf[i]!;
    out[i] =
      a < 0
        ? {
            timestamp: p.timestamps[i]!,
            observedTimestamp: all ?? p.observed[i]!,
            labels: labels[p.labelOf[i]!]!,
            body: p.lines[i]!,
          }
        : {
            timestamp: p.timestamps[i]!,
            observedTimestamp: all ?? p.observed[i]!,
            labels: labels[p.labelOf[i]!]!,
            attributes: sets[a]!,
            body: p.lines[i]!,
          };
  }
  for (const [i, t] of p.wideTimes ?? []) out[i] = { ...out[i]!, timestamp: t };
  return out;
}

const BULK_ACTIONS: readonly BulkAction[] = ['index', 'create', 'update', 'delete'];

/** A bulk request's items, packed alike: actions by number, indexes by a table, errors sparse. */
export interface PackedBulk {
  readonly actions: Uint8Array;
  readonly indexNames: string[];
  readonly indexOf: Uint32Array;
  /** Each item's `_id`; absent when no item has one (shippers mostly let the server make them). */
  readonly ids?: (string | undefined)[];
  /** [item, type, reason, status] of the items refused by the decoder. */
  readonly errors: [number, string, string, number][];
  readonly slot: Int32Array;
}

export function packBulk(
  items: readonly BulkItem[],
  slot: readonly number[],
): { packed: PackedBulk; transfer: ArrayBuffer[] } {
  const n = items.length;
  const actions = new Uint8Array(n);
  const indexOf = new Uint32Array(n);
  const indexNames: string[] = [];
  const indexes = new Map<string, number>();
  let ids: (string | undefined)[] | undefined;
  const errors: [number, string, string, number][] = [];
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    actions[i] = BULK_ACTIONS.indexOf(item.action);
    indexOf[i] = positionOf(indexes, indexNames, item.index, item.index);
    if (item.id !== undefined) {
      ids ??= new Array<string | undefined>(n).fill(undefined);
      ids[i] = item.id;
    }
    if (item.error) errors.push([i, item.error.type, item.error.reason, item.error.status]);
  }
  const s = Int32Array.from(slot);
  return {
    packed: { actions, indexNames, indexOf, ...(ids ? { ids } : {}), errors, slot: s },
    transfer: [actions.buffer, indexOf.buffer, s.buffer] as ArrayBuffer[],
  };
}

export function unpackBulk(p: PackedBulk): { items: BulkItem[]; slot: number[] } {
  const n = p.actions.length;
  const errors = new Map<number, [number, string, string, number]>();
  for (const e of p.errors) errors.set(e[0], e);
  const items = new Array<BulkItem>(n);
  for (let i = 0; i < n; i++) {
    const item: { -readonly [K in keyof BulkItem]: BulkItem[K] } = {
      action: BULK_ACTIONS[p.actions[i]!]!,
      index: p.indexNames[p.indexOf[i]!]!,
    };
    const id = p.ids?.[i];
    if (id !== undefined) item.id = id;
    const e = errors.get(i);
    if (e) item.error = { type: e[1], reason: e[2], status: e[3] };
    items[i] = item;
  }
  return { items, slot: Array.from(p.slot) };
}
