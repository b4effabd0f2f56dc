/**
 * @module detected_fields, as Loki's querier computes it (pkg/querier): the newest `lineLimit` lines
 * of a selection are parsed with strict logfmt, else JSON, and every field found is reported with
 * its type (Go's int, float, boolean, duration, bytes, else string, detected per stream), its number
 * of distinct values and the parsers that found it. Grafana's Logs Drilldown and the Loki data
 * source's field suggestions use this (HTTP side: src/api/loki/detected-fields.ts).
 */

import { parseHumanBytes } from '../go/bytes.js';
import { parseGoDuration } from '../go/duration.js';
import { goParseFloat } from '../go/float.js';
import type { JsonParserStage, LogExpr, LogfmtParserStage } from '../logql/ast.js';
import { LogqlUnsupportedError } from '../logql/errors.js';
import { planLog } from '../logql/plan.js';
import { restrictSelector } from '../logql/restrict.js';
import { compileJson } from '../logql/stages/json.js';
import { compileLogfmt } from '../logql/stages/logfmt.js';
import { EntryState } from '../logql/stages/state.js';
import { labelsKey } from '../model/labels-key.js';
import type { LabelMatcher, Store } from '../store/store.js';
import { scan } from './scan.js';

export type DetectedFieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string';

const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
const INT64 = /^[+-]?\d+$/;

/** Loki's determineType: the first of Go's parsers that accepts the value. */
export function determineType(value: string): DetectedFieldType {
  if (INT64.test(value)) {
    const n = BigInt(value);
    if (n <= 9_223_372_036_854_775_807n && n >= -9_223_372_036_854_775_808n) return 'int';
  }
  if (goParseFloat(value).ok) return 'float';
  if (GO_BOOLS.has(value)) return 'boolean';
  if (parseGoDuration(value).ok) return 'duration';
  if (parseHumanBytes(value).ok) return 'bytes';
  return 'string';
}

const LOGFMT: LogfmtParserStage = { type: 'logfmt', strict: true, keepEmpty: false, params: [] };
const JSON_STAGE: JsonParserStage = { type: 'json', params: [] };

/** Loki's parseLine: strict logfmt first, JSON when logfmt fails; the fields and the parser. */
export function detectLine(line: string): { fields: Record<string, string>; parser?: 'logfmt' | 'json' } {
  const st = new EntryState();
  st.reset(0n, line, {}, {});
  compileLogfmt(LOGFMT)(st);
  if (st.err === '') return { fields: { ...st.parsed }, parser: 'logfmt' };
  st.reset(0n, line, {}, {});
  compileJson(JSON_STAGE)(st);
  if (st.err === '') return { fields: { ...st.parsed }, parser: 'json' };
  return { fields: {} };
}

interface Field {
  type: DetectedFieldType;
  values: Set<string>;
  parsers: string[];
}

export interface DetectedFieldsRequest {
  readonly tenant: string;
  readonly expr: LogExpr;
  /** Matchers added to the selector (what the caller may read). */
  readonly restriction?: readonly LabelMatcher[];
  /** Half-open range [start, end), nanoseconds. */
  readonly start: bigint;
  readonly end: bigint;
  readonly lineLimit: number;
  readonly fieldLimit: number;
  readonly signal?: AbortSignal;
}

export interface DetectedField {
  readonly label: string;
  readonly type: DetectedFieldType;
  readonly cardinality: number;
  readonly parsers: string[];
}

/** The fields of the newest `lineLimit` lines, sorted by name, at most `fieldLimit` of them. */
export async function detectFields(store: Store, req: DetectedFieldsRequest): Promise<DetectedField[]> {
  const plan = planLog(req.expr);
  if (plan.rest.length > 0)
    throw new LogqlUnsupportedError(`pipeline stage ${plan.rest[0]!.type} is not supported here yet`);
  const matchers =
    req.restriction === undefined ? req.expr.matchers : restrictSelector(req.expr.matchers, req.restriction);

  // The newest lines, grouped by stream as Loki groups them before detecting.
  const byStream = new Map<string, string[]>();
  const lines = scan(
    store,
    {
      tenant: req.tenant,
      start: req.start,
      end: req.end,
      matchers,
      stages: req.expr.pipeline,
      direction: 'backward',
      limit: req.lineLimit,
      ...(req.signal ? { signal: req.signal } : {}),
    },
    (e) => {
      const key = labelsKey(e.stream.labels);
      const lines = byStream.get(key);
      if (lines) lines.push(e.body);
      else byStream.set(key, [e.body]);
      return true;
    },
  );
  for await (const _ of lines);
  const fields = new Map<string, Field>();
  for (const key of [...byStream.keys()].sort()) {
    const typed = new Set<string>();
    for (const line of byStream.get(key) ?? []) {
      const { fields: found, parser } = detectLine(line);
      if (!parser) continue;
      for (const [name, value] of Object.entries(found)) {
        let f = fields.get(name);
        if (!f) {
          if (fields.size >= req.fieldLimit) continue;
          f = { type: 'string', values: new Set(), parsers: [parser] };
          fields.set(name, f);
        }
        if (!f.parsers.includes(parser)) f.parsers.push(parser);
        // Loki detects a field's type on its first value in each stream.
        if (!typed.has(name)) {
          f.type = determineType(value);
          typed.add(name);
        }
        f.values.add(value);
      }
    }
  }
  return [...fields.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, f]) => ({ label, type: f.type, cardinality: f.values.size, parsers: f.parsers }));
}
