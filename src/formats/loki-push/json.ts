/**
 * @module The JSON push body of `POST /loki/api/v1/push`:
 * `{"streams": [{"stream": {"app": "x"}, "values": [["<ns>", "<line>", {"k": "v"}]]}]}`.
 * Rules and texts follow Loki's decoder (pkg/loghttp/push.go with buger/jsonparser): the timestamp
 * and the line must be JSON strings (a number timestamp is refused, with jsonparser's odd "Value is
 * string, but can't find closing..." text), the timestamp is a signed int64 of nanoseconds, the
 * optional third element is an object of string values, further elements are ignored, null entries
 * are skipped. Each error names where it is and what was expected, after Loki's own text.
 */
import { FormatError, malformed } from '../errors.js';
import { labelSetText, setOwn } from './labels.js';
import { type DecodedStream, GO_ZERO_TIME_NS, type PushEntry } from './types.js';

// buger/jsonparser's error texts, which Loki returns as they are.
const NOT_A_STRING = `Value is string, but can't find closing '"' symbol`;
const NOT_AN_OBJECT = "Value looks like object, but can't find closing '}' symbol";
const NOT_AN_ARRAY = "Value is array, but can't find closing ']' symbol";
const NOT_A_NUMBER = "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
const OVERFLOW = 'Value is number, but overflowed while parsing';

/** Loki's validation.MissingStreamsErrorMsg. */
export const MISSING_STREAMS_MESSAGE = 'error at least one valid stream is required for ingestion';

const MAX_INT64 = 9_223_372_036_854_775_807n;
const MIN_INT64 = -9_223_372_036_854_775_808n;

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function fail(where: string, lokiText: string, hint: string): never {
  throw malformed(`${where}: ${lokiText} (${hint})`);
}

/** jsonparser.ParseInt on the timestamp string: optional '-', digits only, within int64. */
function parseNs(s: string, where: string): bigint {
  const n = s.length;
  let i = 0;
  if (n > 0 && s.charCodeAt(0) === 0x2d) i = 1;
  if (n === 0) fail(where, NOT_A_NUMBER, `the timestamp is empty; expected nanoseconds since the epoch`);
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) {
      fail(where, NOT_A_NUMBER, `the timestamp ${JSON.stringify(s)} is not an integer of nanoseconds`);
    }
  }
  if (i === n) return 0n; // jsonparser reads a lone "-" as 0
  const v = BigInt(s);
  if (v > MAX_INT64 || v < MIN_INT64) {
    fail(where, OVERFLOW, `the timestamp ${s} does not fit in a signed 64-bit integer of nanoseconds`);
  }
  return v;
}

/** Loki's LabelSet.UnmarshalJSON: every value is taken, a non-string one as its JSON text. */
function streamLabelsText(stream: unknown, where: string): string {
  if (stream === undefined) return ''; // no "stream" key: Loki keeps an empty labels string
  if (stream === null || typeof stream !== 'object' || Array.isArray(stream)) {
    fail(where, NOT_AN_OBJECT, `"stream" must be an object of labels, got ${jsonKind(stream)}`);
  }
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(stream)) {
    setOwn(
      set,
      k,
      typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v),
    );
  }
  return labelSetText(set);
}

function decodeMetadata(md: unknown, where: string): Record<string, string> | undefined {
  if (md === null || typeof md !== 'object' || Array.isArray(md)) {
    fail(where, NOT_AN_OBJECT, `structured metadata must be an object of strings, got ${jsonKind(md)}`);
  }
  let count = 0;
  for (const k in md) {
    const v = (md as Record<string, unknown>)[k];
    if (typeof v !== 'string') {
      fail(`${where}.${k}`, NOT_A_STRING, `structured metadata values must be strings, got ${jsonKind(v)}`);
    }
    count++;
  }
  // JSON.parse made a fresh object of own string properties: it is used as it is.
  return count === 0 ? undefined : (md as Record<string, string>);
}

function decodeValues(values: unknown, where: string): PushEntry[] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values)) fail(where, NOT_AN_ARRAY, `"values" must be an array, got ${jsonKind(values)}`);
  const entries: PushEntry[] = [];
  for (let j = 0; j < values.length; j++) {
    const v: unknown = values[j];
    if (v === null) continue;
    const at = `${where}[${j}]`;
    if (!Array.isArray(v)) {
      fail(at, NOT_AN_ARRAY, `each value is ["<nanoseconds>", "<line>"] with an optional {metadata}`);
    }
    let timestamp = GO_ZERO_TIME_NS;
    let line = '';
    let metadata: Record<string, string> | undefined;
    if (v.length > 0) {
      const ts: unknown = v[0];
      if (typeof ts !== 'string') {
        fail(`${at}[0]`, NOT_A_STRING, `the timestamp must be a string of nanoseconds, got ${jsonKind(ts)}`);
      }
      timestamp = parseNs(ts, `${at}[0]`);
    }
    if (v.length > 1) {
      const l: unknown = v[1];
      if (typeof l !== 'string')
        fail(`${at}[1]`, NOT_A_STRING, `the log line must be a string, got ${jsonKind(l)}`);
      line = l;
    }
    if (v.length > 2) metadata = decodeMetadata(v[2], `${at}[2]`);
    entries.push({ timestamp, line, metadata });
  }
  return entries;
}

/** A push of more than `max` entries (streams included), JSON or protobuf (the API's 413). */
export function tooManyEntries(max: number): FormatError {
  return new FormatError(
    'too-large',
    `request body too large: a push may hold at most ${max} entries and streams (the server's --max-push-entries)`,
  );
}

/**
 * Decodes a JSON push body; throws FormatError saying what is wrong and where (malformed), or too-large beyond
 * `maxEntries` entries and streams (counted before any entry is built).
 */
export function decodeJsonPush(text: string, maxEntries = Number.POSITIVE_INFINITY): DecodedStream[] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw malformed(`invalid JSON in push request: ${(err as Error).message}`, err);
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw malformed(`a push request is a JSON object {"streams": [...]}, got ${jsonKind(root)}`);
  }
  const streams: unknown = (root as { streams?: unknown }).streams;
  if (streams === undefined) {
    throw malformed(`${MISSING_STREAMS_MESSAGE}: the JSON body has no "streams" field`);
  }
  if (streams === null) return [];
  if (!Array.isArray(streams)) {
    throw malformed(`"streams" must be an array of streams, got ${jsonKind(streams)}`);
  }
  let count = streams.length;
  for (const s of streams as unknown[]) {
    const values = (s as { values?: unknown } | null)?.values;
    if (Array.isArray(values)) count += values.length;
    if (count > maxEntries) throw tooManyEntries(maxEntries);
  }
  const out: DecodedStream[] = [];
  for (let i = 0; i < streams.length; i++) {
    const s: unknown = streams[i];
    const where = `streams[${i}]`;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) {
      fail(where, NOT_AN_OBJECT, `each stream is {"stream": {...}, "values": [...]}, got ${jsonKind(s)}`);
    }
    const obj = s as { stream?: unknown; values?: unknown };
    out.push({
      labelsText: streamLabelsText(obj.stream, `${where}.stream`),
      entries: decodeValues(obj.values, `${where}.values`),
    });
  }
  return out;
}
