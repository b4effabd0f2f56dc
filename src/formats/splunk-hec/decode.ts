/**
 * @module Splunk's HTTP Event Collector formats (Splunk's "Format events for HTTP Event Collector"):
 * - `/services/collector/event`: one or more JSON event objects, one after another (whitespace or
 *   nothing between them), each `{"event": ..., "time", "host", "source", "sourcetype", "index",
 *   "fields": {...}}`; `event` is required and not blank (a string or any JSON value); `time` is
 *   epoch seconds, a number or a numeric string, with a fraction.
 * - `/services/collector/raw`: the body is text, one event per line; the metadata comes from the
 *   query (`host`, `source`, `sourcetype`, `index`, `time`).
 * Errors carry HEC's codes (HecFormatError): 5 "No data", 6 "Invalid data format", 12 "Event field
 * is required", 13 "Event field cannot be blank", with the index of the event at fault.
 *
 * Records: the line is the event (a string as it is, anything else as its JSON text as sent); labels
 * `source=splunk`, and `index`, `sourcetype` and `node` (Splunk's `host`) when given; Splunk's
 * `source` is the attribute `splunk_source`, and each of `fields` an attribute.
 */
import { ValueSets } from '../../model/intern.js';
import { flattenJson, safeName } from '../../model/names.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { MAX_JSON_DEPTH, MAX_JSON_VALUES } from '../../util/json-bounds.js';
import { FormatError } from '../errors.js';

export class HecFormatError extends FormatError {
  constructor(
    readonly hecCode: number,
    message: string,
    readonly invalidEventNumber?: number,
  ) {
    super('malformed', message);
  }
}

export interface HecEvent {
  readonly event: unknown;
  readonly timeNs?: bigint;
  readonly host?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly index?: string;
  readonly fields?: Record<string, unknown>;
  /**
   * An event that is not a string as its JSON text was sent (the line; trimmed), so it is not
   * serialised again: splunk-logging sends `{"message": ..., "severity": ...}` objects, and
   * `JSON.stringify` of each was a quarter of decoding a body.
   */
  readonly eventText?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Epoch seconds (number or numeric string, fraction allowed) → ns; undefined when absent. */
function timeOf(v: unknown, n: number): bigint | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const x = typeof v === 'string' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new HecFormatError(6, 'Invalid data format', n);
  }
  return BigInt(Math.round(x * 1e6)) * 1000n;
}

const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function hecEvent(doc: unknown, n: number): HecEvent {
  if (!isObj(doc)) throw new HecFormatError(6, 'Invalid data format', n);
  if (!Object.hasOwn(doc, 'event')) throw new HecFormatError(12, 'Event field is required', n);
  const event = doc.event;
  if (event === null || event === '' || (typeof event === 'string' && event.trim() === '')) {
    throw new HecFormatError(13, 'Event field cannot be blank', n);
  }
  const fields = doc.fields;
  if (fields !== undefined && !isObj(fields)) throw new HecFormatError(6, 'Invalid data format', n);
  const timeNs = timeOf(doc.time, n);
  const host = optStr(doc.host);
  const source = optStr(doc.source);
  const sourcetype = optStr(doc.sourcetype);
  const index = optStr(doc.index);
  // Assigned, not spread: seven conditional spreads per event were a fifth of decoding a request.
  const e: { -readonly [K in keyof HecEvent]: HecEvent[K] } = { event };
  if (timeNs !== undefined) e.timeNs = timeNs;
  if (host) e.host = host;
  if (source) e.source = source;
  if (sourcetype) e.sourcetype = sourcetype;
  if (index) e.index = index;
  if (fields) e.fields = fields;
  return e;
}

/**
 * The index of the `}` that closes the object starting at `i` (braces and brackets counted outside
 * strings), or -1 when the text ends first. A string is crossed with native searches for its
 * closing quote and for backslashes (the next one is remembered, so a body without any is searched
 * once): classifying every character of the events' messages was most of the scan.
 *
 * Bounded as every JSON body is (util/json-bounds.ts), before `JSON.parse` builds any of it:
 * nesting past MAX_JSON_DEPTH is HEC's "Invalid data format", and more than MAX_JSON_VALUES values
 * over the whole body (containers opened plus commas, counted in `count`) a 413.
 */
function objectEnd(text: string, i: number, count: ScanState): number {
  const n = text.length;
  let depth = 0;
  let values = count.values;
  let nextBackslash = -2;
  count.eventStart = -1;
  count.eventEnd = -1;
  let inEvent = false;
  for (let j = i; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      const opened = j;
      const eventKey = depth === 1 && text.startsWith('"event"', j);
      let k = j + 1;
      for (;;) {
        const quote = text.indexOf('"', k);
        if (quote < 0) return -1;
        if (nextBackslash !== -1 && nextBackslash < k) nextBackslash = text.indexOf('\\', k);
        if (nextBackslash !== -1 && nextBackslash < quote) {
          k = nextBackslash + 2; // the escaped character, whatever it is, does not end the string
          continue;
        }
        j = quote;
        break;
      }
      if (eventKey && j === opened + 6) {
        // `"event"` at the top level: a key when a colon follows. Its value runs to the next
        // top-level comma or the closing brace.
        let k = j + 1;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === 0x3a) {
          count.eventStart = k + 1;
          count.eventEnd = -1;
          inEvent = true;
          j = k;
        }
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new HecFormatError(
          6,
          `Invalid data format: JSON nesting depth exceeds the maximum allowed (${MAX_JSON_DEPTH})`,
        );
      }
      if (++values > MAX_JSON_VALUES) throw tooManyValues();
    } else if (c === 0x2c) {
      if (++values > MAX_JSON_VALUES) throw tooManyValues();
      if (inEvent && depth === 1) {
        count.eventEnd = j;
        inEvent = false;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) {
        if (inEvent) count.eventEnd = j;
        count.values = values;
        return j;
      }
    }
  }
  return -1;
}

/** What `\s` matches, the common characters first without a regular expression. */
const isSpace = (c: number): boolean =>
  c === 0x20 ||
  c === 0x0a ||
  c === 0x0d ||
  c === 0x09 ||
  ((c === 0x0b || c === 0x0c || c > 0x7f) && /\s/.test(String.fromCharCode(c)));

const tooManyValues = (): FormatError =>
  new FormatError('too-large', `request body too large: JSON body holds more than ${MAX_JSON_VALUES} values`);

/**
 * Where the object at `i` probably ends, if it is too short to be deeper than MAX_JSON_DEPTH: the
 * `}` of the next `}{` or `}\n{` (events sent back to back or a line each, as splunk-logging and
 * most shippers join them), or the text's last `}`; -1 when there is none, or the object would be
 * long enough to hold more levels (it is then scanned: objectEnd). `JSON.parse` of the slice
 * succeeding proves the guess: one JSON value starting with the object's `{` ends at its own `}`
 * and nowhere else. Checking each event this way, not scanning it character by character first,
 * was a fifth of a HEC body's decoding. The next joints are searched once for all the events
 * before them (a search per event that found none would read the rest of the body each time).
 */
class Joints {
  private pair = -2;
  private line = -2;
  private last = -2;

  constructor(private readonly text: string) {}

  guessEnd(i: number): number {
    const text = this.text;
    if (this.pair !== -1 && this.pair < i) this.pair = text.indexOf('}{', i);
    if (this.line !== -1 && this.line < i) this.line = text.indexOf('}\n{', i);
    let k = this.pair < 0 ? this.line : this.line < 0 ? this.pair : Math.min(this.pair, this.line);
    if (k < 0) {
      if (this.last === -2) {
        let e = text.length - 1;
        while (e > 0 && isSpace(text.charCodeAt(e))) e--;
        this.last = text.charCodeAt(e) === 0x7d ? e : -1;
      }
      k = this.last;
      if (k < i) return -1;
    }
    // Fewer characters than 2 * MAX_JSON_DEPTH cannot open more than MAX_JSON_DEPTH levels.
    return k - i < 2 * MAX_JSON_DEPTH ? k : -1;
  }
}

/** What objectEnd counts over a body, and where the last object's `event` value lies. */
interface ScanState {
  values: number;
  /** The top-level `event` value's text: from eventStart to eventEnd (-1: none found). */
  eventStart: number;
  eventEnd: number;
}

/**
 * The events of an `/event` body: JSON objects one after another. An object event keeps its text
 * as sent: `original` gives it where `text` is not the body's own (util/json-text.ts).
 */
export function decodeHecEvents(
  text: string,
  maxEvents: number,
  original: (start: number, end: number) => string = (start, end) => text.slice(start, end),
): HecEvent[] {
  const out: HecEvent[] = [];
  let i = 0;
  const n = text.length;
  const count: ScanState = { values: 0, eventStart: -1, eventEnd: -1 };
  // A body of fewer characters than the values allowed cannot hold too many (each takes one).
  const joints = n <= MAX_JSON_VALUES ? new Joints(text) : undefined;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (text[i] !== '{') throw new HecFormatError(6, 'Invalid data format', out.length);
    let doc: unknown;
    let j = joints ? joints.guessEnd(i) : -1;
    if (j >= 0) {
      try {
        doc = JSON.parse(text.slice(i, j + 1));
      } catch {
        j = -1; // a `}{` inside a string: scanned below
      }
    }
    let scanned = false;
    if (j < 0) {
      j = objectEnd(text, i, count);
      if (j < 0) throw new HecFormatError(6, 'Invalid data format', out.length);
      scanned = true;
      try {
        doc = JSON.parse(text.slice(i, j + 1));
      } catch {
        throw new HecFormatError(6, 'Invalid data format', out.length);
      }
    }
    if (out.length >= maxEvents) {
      throw new FormatError('too-large', `more than ${maxEvents} events in one request`);
    }
    const e = hecEvent(doc, out.length);
    // An object event's text as sent: where it lies, the scan says.
    if (typeof e.event !== 'string' && !scanned) objectEnd(text, i, count);
    if (typeof e.event !== 'string' && count.eventEnd >= 0) {
      (e as { eventText?: string }).eventText = original(count.eventStart, count.eventEnd).trim();
    }
    out.push(e);
    i = j + 1;
  }
  if (out.length === 0) throw new HecFormatError(5, 'No data');
  return out;
}

/** The events of a `/raw` body: one per non-empty line, metadata from the query. */
export function decodeHecRaw(text: string, params: URLSearchParams, maxEvents: number): HecEvent[] {
  const meta = {
    timeNs: timeOf(params.get('time') ?? undefined, 0),
    host: optStr(params.get('host')),
    source: optStr(params.get('source')),
    sourcetype: optStr(params.get('sourcetype')),
    index: optStr(params.get('index')),
  };
  const out: HecEvent[] = [];
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.trim() === '') continue;
    if (out.length >= maxEvents)
      throw new FormatError('too-large', `more than ${maxEvents} events in one request`);
    const e: Record<string, unknown> = { event: l };
    for (const [k, v] of Object.entries(meta)) if (v !== undefined) e[k] = v;
    out.push(e as unknown as HecEvent);
  }
  if (out.length === 0) throw new HecFormatError(5, 'No data');
  return out;
}

/**
 * Labels per (index, sourcetype, host), one object each; and the attributes of events that carry
 * only a `source` (no `fields`: what splunk-logging and Splunk Connect for Kubernetes send), one
 * object per source, so the store encodes a source's attributes once, not once per event.
 */
export class HecLabels {
  /** Found by one map look-up per value (ValueSets), not by a key built from them. */
  private readonly cache = new ValueSets<Labels>(['source', 'index', 'sourcetype', 'node']);
  private readonly sources = new ValueSets(['splunk_source']);

  sourceAttributes(source: string): Record<string, string> {
    return this.sources.of([source]);
  }
  of(e: HecEvent): Labels {
    return this.cache.of(['splunk', e.index, e.sourcetype, e.host]);
  }
}

/**
 * The record of one event. An event without a time takes the receive time plus its index in the
 * request (in nanoseconds), so the lines of one request keep their order when read back.
 */
export function hecRecord(e: HecEvent, labels: HecLabels, receivedNs: bigint, index = 0): RawRecord {
  const attributes: Record<string, string> = e.source && !e.fields ? labels.sourceAttributes(e.source) : {};
  if (e.fields) {
    if (e.source) attributes.splunk_source = e.source;
    for (const k in e.fields) {
      const v = e.fields[k];
      if (typeof v === 'string') attributes[safeName(k)] = v;
      else flattenJson(v, k, attributes);
    }
  }
  return {
    timestamp: e.timeNs ?? receivedNs + BigInt(index),
    observedTimestamp: receivedNs,
    labels: labels.of(e),
    attributes,
    body: typeof e.event === 'string' ? e.event : (e.eventText ?? JSON.stringify(e.event)),
  };
}
