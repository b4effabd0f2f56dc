/**
 * The bucketed-pipeline path of range aggregations (a pipeline that ends in counting lines or
 * bytes: entries read unsorted, counted per bucket) gives exactly what the ordered streaming path
 * gives, on every step layout, with grouping, structured metadata and pipeline errors; and content
 * hints (label filters pushed to the store as necessary conditions) never lose an entry: results
 * equal those of a store that ignores hints, on data where the value is escaped, in structured
 * metadata or a stream label.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isLogExpr, type MetricExpr } from '../../src/logql/ast.js';
import { parseLogql } from '../../src/logql/parser.js';
import { normalizeLabels } from '../../src/model/normalize.js';
import type { LogRecord } from '../../src/model/record.js';
import { evaluateInstant, evaluateRange, LogPipelineError } from '../../src/query/metric/index.js';
import type { EntryQuery, Store } from '../../src/store/store.js';
import { describeEachStore } from '../store/factories.js';
import { MIN, SEC, tempStore } from './helpers.js';

const T0 = 1_800_000_000n * SEC;
const LEVELS = ['info', 'warn', 'error', 'debug'];

/** 3 pods × 600 entries, one every 1.7 s (plus a few nanoseconds), with JSON and logfmt lines. */
function records(): LogRecord[] {
  const out: LogRecord[] = [];
  for (let p = 0; p < 3; p++) {
    for (let i = 0; i < 600; i++) {
      const ts = T0 + BigInt(i) * 1_700_000_000n + BigInt(p * 7 + (i % 5));
      const level = LEVELS[(i * 7 + p) % 4]!;
      const body =
        i % 50 === 0
          ? `not json ${i}`
          : p === 2
            ? `level=${level} msg="req ${i}" dur=${i % 90}ms`
            : JSON.stringify({ level, msg: `req ${i}`, size: i % 13 });
      out.push({
        timestamp: ts,
        observedTimestamp: ts,
        labels: normalizeLabels({ namespace: 'shop', pod: `pod-${p}` }),
        attributes: i % 3 === 0 ? { trace: `t${i % 4}` } : {},
        body,
      });
    }
  }
  // Values a parser finds only by unescaping, values in structured metadata, and a stream label.
  const odd: [Record<string, string>, string, Record<string, string>][] = [
    [{ namespace: 'shop', pod: 'pod-0' }, '{"level":"\\u0065rror","msg":"escaped json"}', {}],
    [{ namespace: 'shop', pod: 'pod-2' }, 'level="e\\u0072ror" msg="escaped logfmt"', {}],
    [{ namespace: 'shop', pod: 'pod-1' }, '{"msg":"metadata level"}', { level: 'error' }],
    [{ namespace: 'shop', pod: 'pod-9', level: 'error' }, '{"msg":"stream level"}', {}],
    [{ namespace: 'shop', pod: 'pod-2' }, 'level="err\\"or" msg="quote"', {}],
  ];
  odd.forEach(([labels, body, attributes], k) => {
    const ts = T0 + BigInt(100 + k * 37) * SEC + 3n;
    out.push({ timestamp: ts, observedTimestamp: ts, labels: normalizeLabels(labels), attributes, body });
  });
  return out;
}

/** The store, with every content hint removed from the queries it is given. */
function withoutHints(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'entries') return (q: EntryQuery) => target.entries({ ...q, hints: [] });
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describeEachStore('bucketed pipeline path', (factory) => {
  let store: Store;
  let settle: () => Promise<void>;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, settle, cleanup } = await tempStore(factory));
    await store.append('b', records());
    await settle();
  });
  after(() => cleanup());

  const queries = [
    'count_over_time({namespace="shop"} | json | level="error" [1m])',
    'sum by (level) (count_over_time({namespace="shop"} | json | __error__="" [2m]))',
    'sum(rate({namespace="shop"} | logfmt | level=~"warn|error" [90s]))',
    'sum by (pod, level) (bytes_over_time({namespace="shop"} |= "req" | json | __error__="" | line_format "{{.msg}}" [1m]))',
    'sum by (level) (bytes_rate({namespace="shop"} | json | __error__="" | size > 6 [3m]))',
    'count_over_time({namespace="shop"} | json | drop msg, size, __error__, __error_details__ [1m])',
    'absent_over_time({namespace="shop"} | json | level="fatal" [1m])',
    'sum by (trace) (count_over_time({namespace="shop"} | json | __error__="" | level!="debug" [45s]))',
    'count_over_time({namespace="shop"} | json | level="info" [1m] offset 2m)',
    'sum by (pod) (count_over_time({namespace="shop"} | json | level="error" [1m]))',
    'sum by (pod) (count_over_time({namespace="shop"} | logfmt | level="error" or level="err\\"or" [1m]))',
    'sum by (pod) (count_over_time({namespace="shop"} | logfmt | level="err\\"or" [1m]))',
    'sum by (msg) (count_over_time({namespace="shop"} | json | level="error", msg=~".*level" [1m]))',
  ];
  // [start, end, step]: steps equal to, smaller than and larger than the ranges, and one step.
  const layouts: [bigint, bigint, bigint][] = [
    [T0 + 2n * MIN, T0 + 17n * MIN, MIN],
    [T0 + 1n * MIN, T0 + 9n * MIN, 20n * SEC],
    [T0 + 3n * MIN, T0 + 16n * MIN, 5n * MIN],
    [T0 + 7n * MIN, T0 + 7n * MIN, MIN],
  ];
  for (const q of queries) {
    test(q, async () => {
      const parsed = parseLogql(q);
      assert.ok(!isLogExpr(parsed));
      const expr: MetricExpr = parsed;
      let nonEmpty = 0;
      for (const [start, end, step] of layouts) {
        const ctx = { store, tenant: 'b' };
        const fast = await evaluateRange({ ...ctx, path: 'auto' }, expr, start, end, step);
        const slow = await evaluateRange({ ...ctx, path: 'stream' }, expr, start, end, step);
        assert.deepEqual(fast.series, slow.series, `${q} at step ${step}`);
        const plain = { store: withoutHints(store), tenant: 'b', path: 'stream' as const };
        const truth = await evaluateRange(plain, expr, start, end, step);
        assert.deepEqual(fast.series, truth.series, `${q} at step ${step}, without hints`);
        if (fast.series.length > 0) nonEmpty++;
      }
      assert.ok(nonEmpty > 0, 'some layout has results');
      const at = T0 + 10n * MIN;
      const i1 = await evaluateInstant({ store, tenant: 'b', path: 'auto' }, expr, at);
      const i2 = await evaluateInstant({ store, tenant: 'b', path: 'stream' }, expr, at);
      assert.deepEqual(i1.type === 'vector' && i1.samples, i2.type === 'vector' && i2.samples);
    });
  }

  test('hints keep entries whose value is escaped, in metadata or a stream label', async () => {
    const at = T0 + 10n * MIN;
    const count = async (q: string) => {
      const r = await evaluateInstant({ store, tenant: 'b' }, parseLogql(q) as MetricExpr, at);
      assert.equal(r.type, 'vector');
      return r.type === 'vector' ? r.samples.map((x) => [x.labels.msg, x.value]) : [];
    };
    assert.deepEqual(
      await count(
        'sum by (msg) (count_over_time({namespace="shop"} |~ "escaped json|metadata level|stream level" | json | level="error" [1h]))',
      ),
      [
        ['escaped json', 1],
        ['metadata level', 1],
        ['stream level', 1],
      ],
    );
    assert.deepEqual(
      await count(
        'sum by (msg) (count_over_time({namespace="shop"} |= "escaped" | logfmt | level="error" [1h]))',
      ),
      [['escaped logfmt', 1]],
    );
    assert.deepEqual(
      await count('sum by (msg) (count_over_time({namespace="shop"} | logfmt | level="err\\"or" [1h]))'),
      [['quote', 1]],
    );
  });

  test('a pipeline error fails the query on both paths', async () => {
    const expr = parseLogql('count_over_time({namespace="shop"} | json [1m])') as MetricExpr;
    for (const path of ['auto', 'stream'] as const) {
      await assert.rejects(
        evaluateRange({ store, tenant: 'b', path }, expr, T0 + MIN, T0 + 5n * MIN, MIN),
        (e) => e instanceof LogPipelineError && /JSONParserErr/.test(e.message),
      );
    }
  });
});
