/**
 * @module detected_labels: the stream labels of a selection (`query`, a
 * selector, or none for every stream; `start`, `end`) with the number of distinct values of each,
 * as Loki's querier answers it (pkg/querier/querier.go DetectedLabels, countLabelsAndCardinality):
 * a label is left out when all its values look like ids (numbers, Go's strconv.ParseFloat, or
 * UUIDs), unless it is one of the static labels `cluster`, `namespace`, `instance`, `pod`, or its
 * only values are `0` and `1`. Grafana's Logs Drilldown lists these as the labels to break a
 * service down by.
 *
 * Loki counts distinct values with a HyperLogLog sketch (exact for small sets); kjournal counts
 * them exactly. Loki's order is a Go map's, random; here labels come sorted by name. No labels is
 * `{}` (HTTP side: src/api/loki/detected-labels.ts).
 */
import { goParseFloat } from '../go/float.js';
import { restrictSelector } from '../logql/restrict.js';
import type { LabelMatcher, Store } from '../store/store.js';

/** Kept whenever they have values (Loki's staticLabels). */
const STATIC_LABELS = new Set(['cluster', 'namespace', 'instance', 'pod']);

const UUID_HEX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** google/uuid's Parse: the 36-character form, braced, `urn:uuid:`-prefixed, or 32 hex digits. */
export function isUuid(v: string): boolean {
  switch (v.length) {
    case 36:
      return UUID_HEX.test(v);
    case 38:
      return v.startsWith('{') && v.endsWith('}') && UUID_HEX.test(v.slice(1, -1));
    case 45:
      return v.slice(0, 9).toLowerCase() === 'urn:uuid:' && UUID_HEX.test(v.slice(9));
    case 32:
      return /^[0-9a-fA-F]{32}$/.test(v);
    default:
      return false;
  }
}

/** Loki's containsAllIDTypes: every value a number or a UUID. */
function allIds(values: readonly string[]): boolean {
  return values.every((v) => goParseFloat(v).ok || isUuid(v));
}

/** Loki's shouldRejectLabel: no values, or only ids (booleans `0`/`1` are not ids). */
export function shouldRejectLabel(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length > 2) return allIds(values);
  return values.some((v) => v !== '0' && v !== '1') ? allIds(values) : false;
}

export interface DetectedLabel {
  readonly label: string;
  readonly cardinality: number;
}

/** The detected labels of some streams' label sets. */
export function detectLabels(streams: Iterable<Readonly<Record<string, string>>>): DetectedLabel[] {
  const values = new Map<string, Set<string>>();
  for (const labels of streams) {
    for (const [name, value] of Object.entries(labels)) {
      if (value === '') continue;
      let set = values.get(name);
      if (!set) {
        set = new Set();
        values.set(name, set);
      }
      set.add(value);
    }
  }
  const out: DetectedLabel[] = [];
  for (const [label, set] of values) {
    if (!STATIC_LABELS.has(label) && shouldRejectLabel([...set])) continue;
    out.push({ label, cardinality: set.size });
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

export interface DetectedLabelsRequest {
  readonly tenant: string;
  readonly matchers: readonly LabelMatcher[];
  /** Matchers added to the selector (what the caller may read). */
  readonly restriction?: readonly LabelMatcher[];
  /** Half-open range [start, end), nanoseconds. */
  readonly start: bigint;
  readonly end: bigint;
}

/** The detected labels of the streams a selection has in the range. */
export async function detectedLabels(store: Store, req: DetectedLabelsRequest): Promise<DetectedLabel[]> {
  const selected = req.restriction ? restrictSelector(req.matchers, req.restriction) : req.matchers;
  const streams = await store.streams(req.tenant, selected, req.start, req.end);
  return detectLabels(streams.map((s) => s.labels));
}
