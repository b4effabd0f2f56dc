/**
 * @module GET /loki/api/v1/detected_fields, as Loki's querier answers it (pkg/querier): the newest
 * `line_limit` lines of a selection are parsed with strict logfmt, else JSON, and every field found
 * is reported with its type (Go's int, float, boolean, duration, bytes, else string, detected per
 * stream), its number of distinct values and the parsers that found it. Grafana's Logs Drilldown
 * and the Loki data source's field suggestions use this.
 */
import { isLogExpr, type JsonParserStage, type LogfmtParserStage } from '../../logql/ast.js';
import { LogqlUnsupportedError } from '../../logql/errors.js';
import { parseLogql } from '../../logql/parser.js';
import { parseGoDuration, parseGoFloat, parseHumanBytes } from '../../logql/pipeline/go-units.js';
import { compileJson } from '../../logql/pipeline/json.js';
import { compileLogfmt } from '../../logql/pipeline/logfmt.js';
import { EntryState } from '../../logql/pipeline/state.js';
import { planLog } from '../../logql/plan.js';
import { restrictSelector } from '../../logql/restrict.js';
import { labelsKey } from '../../model/labels-key.js';
import { nowNs } from '../../model/time.js';
import type { Store } from '../../store/store.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { parseRange } from './params.js';

export interface DetectedFieldsOptions {
  readonly store: Store;
  readonly now?: () => bigint;
}

export type DetectedFieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string';

const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);
const INT64 = /^[+-]?\d+$/;

/** Loki's determineType: the first of Go's parsers that accepts the value. */
export function determineType(value: string): DetectedFieldType {
  if (INT64.test(value)) {
    const n = BigInt(value);
    if (n <= 9_223_372_036_854_775_807n && n >= -9_223_372_036_854_775_808n) return 'int';
  }
  if (parseGoFloat(value).ok) return 'float';
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

function positiveInt(params: URLSearchParams, names: readonly string[], def: number): number {
  for (const name of names) {
    const text = params.get(name);
    if (text === null || text === '') continue;
    if (!/^\d+$/.test(text) || Number(text) <= 0)
      throw badRequest(`invalid ${name} '${text}': must be a positive integer`);
    return Number(text);
  }
  return def;
}

interface Field {
  type: DetectedFieldType;
  values: Set<string>;
  parsers: string[];
}

/** GET /loki/api/v1/detected_fields: `query`, `start`, `end`, `since`, `line_limit`, `limit`. */
export function detectedFieldsHandler(opts: DetectedFieldsOptions): Handler {
  const now = opts.now ?? nowNs;
  return async (ctx) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const q = ctx.params.get('query');
    if (q === null || q.trim() === '') throw badRequest('query must not be empty');
    const expr = parseLogql(q);
    if (!isLogExpr(expr)) throw badRequest('detected_fields needs a log query');
    const plan = planLog(expr);
    if (plan.rest.length > 0)
      throw new LogqlUnsupportedError(`pipeline stage ${plan.rest[0]!.type} is not supported here yet`);
    const { start, end } = parseRange(ctx.params, now());
    const lineLimit = positiveInt(ctx.params, ['line_limit'], 1000);
    const fieldLimit = positiveInt(ctx.params, ['limit', 'field_limit'], 1000);
    const matchers =
      ctx.restriction === undefined ? plan.matchers : restrictSelector(plan.matchers, ctx.restriction);

    // The newest lines, grouped by stream as Loki groups them before detecting.
    const byStream = new Map<string, string[]>();
    for await (const batch of opts.store.entries({
      tenant,
      start,
      end: end + 1n,
      matchers,
      lineFilters: plan.lineFilters,
      direction: 'backward',
      limit: lineLimit,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    })) {
      for (const e of batch) {
        const key = labelsKey(e.stream.labels);
        const lines = byStream.get(key);
        if (lines) lines.push(e.body);
        else byStream.set(key, [e.body]);
      }
    }
    const fields = new Map<string, Field>();
    for (const key of [...byStream.keys()].sort()) {
      const typed = new Set<string>();
      for (const line of byStream.get(key) ?? []) {
        const { fields: found, parser } = detectLine(line);
        if (!parser) continue;
        for (const [name, value] of Object.entries(found)) {
          let f = fields.get(name);
          if (!f) {
            if (fields.size >= fieldLimit) continue;
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
    const result = [...fields.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([label, f]) => ({ label, type: f.type, cardinality: f.values.size, parsers: f.parsers }));
    return json(200, { fields: result, limit: fieldLimit });
  };
}
