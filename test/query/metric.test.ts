/**
 * The metric engine against a real DuckDbStore: a conformance table drawn from Loki's metric-query
 * documentation (every range function, aggregation and operator, vector matching, offsets, unwrap
 * conversions, absent_over_time, label_replace, topk ties) with exact expected vectors and
 * matrices, each case run on the push-down path and on the streaming path.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MetricExpr } from '../../src/logql/ast.js';
import { labelsKey } from '../../src/model/labels-key.js';
import {
  evaluateInstant,
  evaluateRange,
  LogPipelineError,
  MetricEvalError,
  MetricLimitError,
  QueryCancelledError,
} from '../../src/query/metric/index.js';
import { compareLabels } from '../../src/query/metric/labels.js';
import type { MetricContext } from '../../src/query/metric/types.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../store/factories.js';
import { agg, bin, by, L, MIN, m, num, rec, rng, SEC, sel, tempStore, unwrap, without } from './helpers.js';

/** A round minute. */
const T = 28_333_333n * MIN;
const t = (s: number): bigint => T + BigInt(s) * SEC;

const A = { app: 'api', namespace: 'shop', pod: 'a' };
/** The same namespace under its Viaq spelling. */
const B = { app: 'api', kubernetes_namespace_name: 'shop', pod: 'b' };
const C = { app: 'web', namespace: 'ops', pod: 'c' };
const D = { app: 'meta' };
const U = { app: 'unwrap' };
const E = { app: 'bad' };
const V = { app: 'durations' };
const W = { app: 'sizes' };

const records = [
  rec(A, t(10), 'GET /a 200'),
  rec(A, t(20), 'GET /a 500 error'),
  rec(A, t(30), 'GET /b 200'),
  rec(A, t(70), 'POST /a 201'),
  rec(B, t(15), 'GET /c 200'),
  rec(B, t(65), 'GET /c 404'),
  rec(B, t(125), 'GET /d 200 error'),
  rec(C, t(60), 'web at the minute'),
  rec(C, t(120), 'web two'),
  rec(D, t(10), 'with user', { user: 'u1' }),
  rec(D, t(20), 'with user again', { user: 'u1' }),
  rec(D, t(30), 'without metadata'),
  rec(U, t(10), 'u', { latency: '1' }),
  rec(U, t(20), 'u', { latency: '3' }),
  rec(U, t(30), 'u', { latency: '2' }),
  rec(E, t(10), 'e', { latency: 'abc' }),
  rec(E, t(20), 'e', { latency: '4' }),
  rec(V, t(10), 'v', { took: '1.5s' }),
  rec(V, t(20), 'v', { took: '250ms' }),
  rec(W, t(10), 'w', { size: '1KiB' }),
  rec(W, t(20), 'w', { size: '2 KB' }),
];

const bytes = (...s: string[]): number => s.reduce((n, x) => n + Buffer.byteLength(x), 0);

const api = sel([m('app', 'api')]);
const cot = (log = api, range = MIN, extra = {}) => rng('count_over_time', log, range, extra);

type Expected = string[] | { scalar: number };

interface Case {
  readonly name: string;
  readonly expr: MetricExpr;
  /** Instant time, seconds after T (default 60). */
  readonly at?: number;
  readonly want: Expected;
}

/** `labels value` lines of a vector, in the engine's order. */
function vectorLines(samples: { labels: Record<string, string>; value: number }[]): string[] {
  return samples.map((s) => `${labelsKey(s.labels)} ${s.value}`);
}

const stdvar3 = ((1 - 2) ** 2 + (3 - 2) ** 2 + 0) / 3;
const rateCounter = (4 * ((2e7 + 60) / 2e7)) / 60;

/** The range functions Loki lets group with by/without (syntax RangeAggregationExpr.validate). */
const GROUPABLE = new Set([
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'rate',
  'rate_counter',
  'absent_over_time',
  'first_over_time',
  'last_over_time',
]);
const OUTER: Record<string, 'min' | 'max'> = { min_over_time: 'min', max_over_time: 'max' };

const INSTANT: Case[] = [
  // Log range aggregations
  { name: 'count_over_time', expr: cot(), want: [`${L(A)} 3`, `${L(B)} 1`] },
  {
    name: 'rate: count / range seconds',
    expr: rng('rate', api, MIN),
    want: [`${L(A)} ${3 / 60}`, `${L(B)} ${1 / 60}`],
  },
  {
    name: 'bytes_over_time',
    expr: rng('bytes_over_time', api, MIN),
    want: [
      `${L(A)} ${bytes('GET /a 200', 'GET /a 500 error', 'GET /b 200')}`,
      `${L(B)} ${bytes('GET /c 200')}`,
    ],
  },
  {
    name: 'bytes_rate',
    expr: rng('bytes_rate', api, MIN),
    want: [
      `${L(A)} ${bytes('GET /a 200', 'GET /a 500 error', 'GET /b 200') / 60}`,
      `${L(B)} ${bytes('GET /c 200') / 60}`,
    ],
  },
  {
    name: 'line filters push down',
    expr: cot(sel([m('app', 'api')], [{ type: 'lineFilter', op: '|=', value: 'error', or: [] }]), 3n * MIN),
    at: 180,
    want: [`${L(A)} 1`, `${L(B)} 1`],
  },
  {
    name: 'windows are left-open: (t - range, t]',
    expr: cot(sel([m('app', 'web')])),
    at: 120,
    want: [`${L(C)} 1`],
  },
  {
    name: 'an entry at t is in the window',
    expr: cot(sel([m('app', 'web')]), 1n * SEC),
    at: 60,
    want: [`${L(C)} 1`],
  },
  {
    name: 'offset moves the window back',
    expr: cot(api, MIN, { offset: MIN }),
    at: 120,
    want: [`${L(A)} 3`, `${L(B)} 1`],
  },
  {
    name: 'structured metadata joins the series labels',
    expr: cot(sel([m('app', 'meta')])),
    want: [`${L(D)} 1`, `${labelsKey({ ...normalized(D), user: 'u1' })} 2`],
  },
  {
    name: 'absent_over_time of nothing: the equality matchers',
    expr: rng('absent_over_time', sel([m('app', 'none'), m('pod', 'x', '=~')]), MIN),
    want: ['{app="none"} 1'],
  },
  { name: 'absent_over_time of something: empty', expr: rng('absent_over_time', api, MIN), want: [] },
  // Unwrapped range aggregations
  ...(
    [
      ['sum_over_time', 6],
      ['avg_over_time', 2],
      ['min_over_time', 1],
      ['max_over_time', 3],
      ['first_over_time', 1],
      ['last_over_time', 2],
      ['stdvar_over_time', stdvar3],
      ['stddev_over_time', Math.sqrt(stdvar3)],
      ['rate', 6 / 60],
      ['rate_counter', rateCounter],
      ['count_over_time', 3],
    ] as const
  ).map(
    ([fn, v]): Case => ({
      // Loki allows `by` on a range aggregation only for some functions; the others group outside.
      name: `${fn} | unwrap ... by (app)`,
      expr: GROUPABLE.has(fn)
        ? rng(fn, sel([m('app', 'unwrap')]), MIN, { unwrap: unwrap('latency'), grouping: by('app') })
        : agg(
            OUTER[fn] ?? 'sum',
            rng(fn, sel([m('app', 'unwrap')]), MIN, { unwrap: unwrap('latency') }),
            by('app'),
          ),
      want: [`{app="unwrap"} ${v}`],
    }),
  ),
  {
    // Loki's LabelExtractorWithStages groups `without (latency)` (pkg/logql/log/metrics_extraction.go).
    name: 'the unwrapped label leaves the series: one series for all values',
    expr: rng('max_over_time', sel([m('app', 'unwrap')]), MIN, { unwrap: unwrap('latency') }),
    want: [`${labelsKey(normalized(U))} 3`],
  },
  {
    name: 'without (...) drops the unwrapped label too',
    expr: rng('avg_over_time', sel([m('app', 'unwrap')]), MIN, {
      unwrap: unwrap('latency'),
      grouping: without('kind'),
    }),
    want: [`${labelsKey(omit(normalized(U), 'kind'))} 2`],
  },
  {
    name: 'entries without the unwrapped label give no sample',
    expr: agg(
      'sum',
      rng('count_over_time', sel([m('app', 'api|unwrap', '=~')]), MIN, { unwrap: unwrap('latency') }),
      by('app'),
    ),
    want: ['{app="unwrap"} 3'],
  },
  {
    name: 'quantile_over_time(0.5)',
    expr: rng('quantile_over_time', sel([m('app', 'unwrap')]), MIN, {
      unwrap: unwrap('latency'),
      param: 0.5,
      grouping: by('app'),
    }),
    want: ['{app="unwrap"} 2'],
  },
  {
    name: 'quantile_over_time(0.9) interpolates',
    expr: rng('quantile_over_time', sel([m('app', 'unwrap')]), MIN, {
      unwrap: unwrap('latency'),
      param: 0.9,
      grouping: by('app'),
    }),
    want: [`{app="unwrap"} ${2 * (1 - 0.8) + 3 * 0.8}`],
  },
  {
    name: 'unwrap duration()',
    expr: agg(
      'sum',
      rng('sum_over_time', sel([m('app', 'durations')]), MIN, { unwrap: unwrap('took', 'duration') }),
      by('app'),
    ),
    want: ['{app="durations"} 1.75'],
  },
  {
    name: 'unwrap duration_seconds()',
    expr: rng('last_over_time', sel([m('app', 'durations')]), MIN, {
      unwrap: unwrap('took', 'duration_seconds'),
      grouping: by('app'),
    }),
    want: ['{app="durations"} 0.25'],
  },
  {
    name: 'unwrap bytes()',
    expr: agg(
      'sum',
      rng('sum_over_time', sel([m('app', 'sizes')]), MIN, { unwrap: unwrap('size', 'bytes') }),
      by('app'),
    ),
    want: ['{app="sizes"} 3024'],
  },
  {
    name: 'unwrap errors skipped with | __error__=""',
    expr: rng('sum_over_time', sel([m('app', 'bad')]), MIN, {
      unwrap: unwrap('latency', 'none', [{ kind: 'string', name: '__error__', op: '=', value: '' }]),
    }),
    want: [`${labelsKey(normalized(E))} 4`],
  },
  {
    name: 'range aggregation grouping: by (app)',
    expr: rng('avg_over_time', sel([m('app', 'unwrap|bad', '=~')]), MIN, {
      unwrap: unwrap('latency', 'none', [{ kind: 'string', name: '__error__', op: '=', value: '' }]),
      grouping: by('app'),
    }),
    want: ['{app="bad"} 4', '{app="unwrap"} 2'],
  },
  // Vector aggregations
  {
    name: 'sum by (namespace) finds the Viaq spelling',
    expr: agg('sum', cot(), by('namespace')),
    want: ['{namespace="shop"} 4'],
  },
  { name: 'sum without grouping', expr: agg('sum', cot()), want: ['{} 4'] },
  {
    name: 'sum without (pod)',
    expr: agg('sum', cot(), without('pod')),
    want: [`${labelsKey(omit(normalized(A), 'pod'))} 3`, `${labelsKey(omit(normalized(B), 'pod'))} 1`].sort(),
  },
  { name: 'avg', expr: agg('avg', cot()), want: ['{} 2'] },
  { name: 'min', expr: agg('min', cot()), want: ['{} 1'] },
  { name: 'max', expr: agg('max', cot()), want: ['{} 3'] },
  { name: 'count', expr: agg('count', cot()), want: ['{} 2'] },
  { name: 'stdvar', expr: agg('stdvar', cot()), want: ['{} 1'] },
  { name: 'stddev', expr: agg('stddev', cot()), want: ['{} 1'] },
  { name: 'topk', expr: agg('topk', cot(), undefined, 1), want: [`${L(A)} 3`] },
  { name: 'bottomk', expr: agg('bottomk', cot(), undefined, 1), want: [`${L(B)} 1`] },
  { name: 'topk(0) is empty', expr: agg('topk', cot(), undefined, 0), want: [] },
  // Equal values: the series first in label order (B's kubernetes_namespace_name sorts before namespace).
  {
    name: 'topk ties: the first series in label order',
    expr: agg('topk', cot(), undefined, 1),
    at: 120,
    want: [`${L(B)} 1`],
  },
  {
    name: 'topk by (app)',
    expr: agg('topk', cot(sel([m('app', 'api|web', '=~')])), by('app'), 1),
    want: [`${L(A)} 3`, `${L(C)} 1`],
  },
  { name: 'sort', expr: agg('sort', cot()), want: [`${L(B)} 1`, `${L(A)} 3`] },
  { name: 'sort_desc', expr: agg('sort_desc', cot()), want: [`${L(A)} 3`, `${L(B)} 1`] },
  // Binary operators
  { name: 'scalar + scalar', expr: bin('+', num(1), num(2)), want: { scalar: 3 } },
  { name: 'scalar > bool scalar', expr: bin('>', num(2), num(1), { returnBool: true }), want: { scalar: 1 } },
  { name: 'scalar / 0 is NaN', expr: bin('/', num(1), num(0)), want: { scalar: Number.NaN } },
  { name: 'vector * scalar', expr: bin('*', cot(), num(2)), want: [`${L(A)} 6`, `${L(B)} 2`] },
  { name: 'scalar - vector', expr: bin('-', num(10), cot()), want: [`${L(A)} 7`, `${L(B)} 9`] },
  { name: 'vector % scalar', expr: bin('%', cot(), num(2)), want: [`${L(A)} 1`, `${L(B)} 1`] },
  { name: 'vector ^ scalar', expr: bin('^', cot(), num(2)), want: [`${L(A)} 9`, `${L(B)} 1`] },
  { name: 'vector / 0 is NaN', expr: bin('/', cot(), num(0)), want: [`${L(A)} NaN`, `${L(B)} NaN`] },
  { name: 'vector > scalar filters', expr: bin('>', cot(), num(1)), want: [`${L(A)} 3`] },
  { name: 'scalar < vector keeps the vector value', expr: bin('<', num(1), cot()), want: [`${L(A)} 3`] },
  {
    name: 'vector > bool scalar',
    expr: bin('>', cot(), num(1), { returnBool: true }),
    want: [`${L(A)} 1`, `${L(B)} 0`],
  },
  { name: 'vector == vector (same labels)', expr: bin('==', cot(), cot()), want: [`${L(A)} 3`, `${L(B)} 1`] },
  { name: 'vector + vector (same labels)', expr: bin('+', cot(), cot()), want: [`${L(A)} 6`, `${L(B)} 2`] },
  {
    name: 'ignoring(pod, namespace): one-to-one',
    expr: bin('+', cot(sel([m('pod', 'a')])), cot(sel([m('pod', 'b')])), {
      matching: { on: false, labels: ['pod', 'namespace'] },
    }),
    want: [`${labelsKey(omit(normalized(A), 'pod', 'namespace'))} 4`],
  },
  {
    name: 'on(app) group_left: many-to-one keeps the many side',
    expr: bin('/', cot(), agg('sum', cot(), by('app')), {
      matching: { on: true, labels: ['app'], group: { side: 'left', include: [] } },
    }),
    want: [`${L(A)} 0.75`, `${L(B)} 0.25`],
  },
  {
    name: 'on(app) group_right: one-to-many',
    expr: bin('/', agg('sum', cot(), by('app')), cot(), {
      matching: { on: true, labels: ['app'], group: { side: 'right', include: [] } },
    }),
    want: [`${L(A)} ${4 / 3}`, `${L(B)} 4`],
  },
  {
    name: 'group_left(extra) copies a label from the one side',
    expr: bin('*', cot(), label('sum', 'tier', 'gold'), {
      matching: { on: true, labels: ['app'], group: { side: 'left', include: ['tier'] } },
    }),
    want: [
      `${labelsKey({ ...normalized(A), tier: 'gold' })} 12`,
      `${labelsKey({ ...normalized(B), tier: 'gold' })} 4`,
    ],
  },
  {
    name: 'on(): one-to-one drops every label',
    expr: bin(
      '+',
      cot(sel([m('app', 'web')])),
      { type: 'vectorLiteral', value: 10 },
      { matching: { on: true, labels: [] } },
    ),
    want: ['{} 11'],
  },
  {
    name: 'vector + vector() without matching labels: empty',
    expr: bin('+', cot(), { type: 'vectorLiteral', value: 1 }),
    want: [],
  },
  { name: 'and', expr: bin('and', cot(), cot(sel([m('pod', 'a')]))), want: [`${L(A)} 3`] },
  {
    name: 'or',
    expr: bin('or', cot(sel([m('pod', 'a')])), cot(sel([m('app', 'web')]))),
    want: [`${L(A)} 3`, `${L(C)} 1`],
  },
  { name: 'unless', expr: bin('unless', cot(), cot(sel([m('pod', 'a')]))), want: [`${L(B)} 1`] },
  {
    name: 'or vector(0) fills an empty result',
    expr: bin('or', cot(sel([m('app', 'none')])), { type: 'vectorLiteral', value: 0 }),
    want: ['{} 0'],
  },
  { name: 'vector()', expr: { type: 'vectorLiteral', value: 5 }, want: ['{} 5'] },
  // label_replace
  {
    name: 'label_replace with $1',
    expr: {
      type: 'labelReplace',
      expr: cot(sel([m('app', 'web')])),
      dst: 'dst',
      replacement: '$1-x',
      src: 'pod',
      regex: '(.*)',
    },
    want: [`${labelsKey({ ...normalized(C), dst: 'c-x' })} 1`],
  },
  {
    name: 'label_replace without a match leaves the series',
    expr: {
      type: 'labelReplace',
      expr: cot(sel([m('app', 'web')])),
      dst: 'dst',
      replacement: '$1',
      src: 'pod',
      regex: 'z(.*)',
    },
    want: [`${L(C)} 1`],
  },
  {
    name: 'label_replace to "" removes the label',
    expr: {
      type: 'labelReplace',
      expr: cot(sel([m('app', 'web')])),
      dst: 'pod',
      replacement: '',
      src: 'pod',
      regex: '.*',
    },
    want: [`${labelsKey(omit(normalized(C), 'pod'))} 1`],
  },
];

function normalized(labels: Record<string, string>): Record<string, string> {
  return JSON.parse(
    `{${L(labels)
      .slice(1, -1)
      .replace(/(\w+)=/g, '"$1":')}}`,
  ) as Record<string, string>;
}

function omit(labels: Record<string, string>, ...names: string[]): Record<string, string> {
  const out = { ...labels };
  for (const n of names) delete out[n];
  return out;
}

/** `sum by (app) (count_over_time(...))` with one more label, for group_left(include). */
function label(op: 'sum', name: string, value: string): MetricExpr {
  return {
    type: 'labelReplace',
    expr: agg(op, cot(), by('app')),
    dst: name,
    replacement: value,
    src: 'app',
    regex: '.*',
  };
}

describeEachStore('metric engine conformance', (factory) => {
  let store: Store;
  let settle: () => Promise<void>;
  let cleanup: () => Promise<void>;
  const ctx = (path: 'auto' | 'stream', extra: Partial<MetricContext> = {}): MetricContext => ({
    store,
    tenant: 'conf',
    path,
    ...extra,
  });

  before(async () => {
    ({ store, settle, cleanup } = await tempStore(factory));
    await store.append('conf', records);
    await settle();
  });
  after(() => cleanup());

  for (const c of INSTANT) {
    for (const path of ['auto', 'stream'] as const) {
      test(`${c.name} (${path})`, async () => {
        const r = await evaluateInstant(ctx(path), c.expr, t(c.at ?? 60));
        if ('scalar' in c.want) {
          assert.equal(r.type, 'scalar');
          if (r.type === 'scalar') assert.deepEqual(r.value, c.want.scalar);
          return;
        }
        assert.equal(r.type, 'vector');
        if (r.type !== 'vector') return;
        const byValue = c.expr.type === 'vector' && (c.expr.op === 'sort' || c.expr.op === 'sort_desc');
        // Loki orders an instant vector by labels (labels.Compare), except after sort and sort_desc.
        const sorted = [...r.samples].sort((x, y) => compareLabels(x.labels, y.labels));
        if (!byValue) assert.deepEqual(r.samples, sorted, 'ordered by labels');
        const got = vectorLines(r.samples);
        assert.deepEqual(byValue ? got : got.sort(), byValue ? c.want : [...c.want].sort());
      });
    }
  }

  /** The series as text, sorted as text; the order of the series themselves is checked apart. */
  const matrix = (r: Awaited<ReturnType<typeof evaluateRange>>): string[] => {
    const sorted = [...r.series].sort((x, y) => compareLabels(x.labels, y.labels));
    assert.deepEqual(r.series, sorted, 'a matrix is ordered by labels');
    return r.series
      .map((s) => `${labelsKey(s.labels)} ${s.points.map(([ts, v]) => `${(ts - T) / SEC}:${v}`).join(' ')}`)
      .sort();
  };

  for (const path of ['auto', 'stream'] as const) {
    test(`range: steps start, start+step, ... <= end (${path})`, async () => {
      const r = await evaluateRange(ctx(path), cot(), t(60), t(200), MIN);
      assert.deepEqual(matrix(r), [`${L(A)} 60:3 120:1`, `${L(B)} 60:1 120:1 180:1`].sort());
    });

    test(`range: step smaller than range (${path})`, async () => {
      const r = await evaluateRange(ctx(path), cot(sel([m('app', 'web')])), t(30), t(150), 30n * SEC);
      assert.deepEqual(matrix(r), [`${L(C)} 60:1 90:1 120:1 150:1`]);
    });

    test(`range: step larger than range skips entries between windows (${path})`, async () => {
      // Windows (10, 20], (70, 80], (130, 140]: A's entries at 30 and 70 fall in none.
      const r = await evaluateRange(ctx(path), cot(api, 10n * SEC), t(20), t(140), MIN);
      assert.deepEqual(matrix(r), [`${L(A)} 20:1`, `${L(B)} 20:1`].sort());
    });

    test(`range: offset (${path})`, async () => {
      const r = await evaluateRange(
        ctx(path),
        cot(sel([m('app', 'web')]), MIN, { offset: MIN }),
        t(120),
        t(180),
        MIN,
      );
      assert.deepEqual(matrix(r), [`${L(C)} 120:1 180:1`]);
    });

    test(`range: absent_over_time (${path})`, async () => {
      const r = await evaluateRange(
        ctx(path),
        rng('absent_over_time', sel([m('app', 'web')]), MIN),
        t(60),
        t(240),
        MIN,
      );
      assert.deepEqual(matrix(r), ['{app="web"} 180:1 240:1']);
    });

    test(`range: scalar and vector() fill every step (${path})`, async () => {
      assert.deepEqual(matrix(await evaluateRange(ctx(path), num(2), t(0), t(120), MIN)), [
        '{} 0:2 60:2 120:2',
      ]);
      const v = await evaluateRange(ctx(path), { type: 'vectorLiteral', value: 1 }, t(0), t(60), MIN);
      assert.deepEqual(matrix(v), ['{} 0:1 60:1']);
    });

    test(`range: sum by and binary operators per step (${path})`, async () => {
      const r = await evaluateRange(
        ctx(path),
        bin('*', agg('sum', cot(), by('namespace')), num(10)),
        t(60),
        t(180),
        MIN,
      );
      assert.deepEqual(matrix(r), ['{namespace="shop"} 60:40 120:20 180:10']);
    });

    test(`range: topk per step (${path})`, async () => {
      const r = await evaluateRange(ctx(path), agg('topk', cot(), undefined, 1), t(60), t(180), MIN);
      assert.deepEqual(matrix(r), [`${L(A)} 60:3`, `${L(B)} 120:1 180:1`].sort());
    });
  }

  test('too many buckets for a push-down: the engine streams instead, same answer', async () => {
    const expr = cot(api, 90n * SEC);
    const pushed = await evaluateRange(ctx('auto'), expr, t(0), t(300), 7n * SEC);
    const streamed = await evaluateRange(ctx('auto', { maxBuckets: 10 }), expr, t(0), t(300), 7n * SEC);
    assert.ok(pushed.stats.linesCounted > 0 && pushed.stats.linesProcessed === 0);
    assert.ok(streamed.stats.linesProcessed > 0 && streamed.stats.linesCounted === 0);
    assert.deepEqual(pushed.series, streamed.series);
  });

  test('an unwrap error that is not filtered fails the query, as in Loki', async () => {
    for (const path of ['auto', 'stream'] as const) {
      await assert.rejects(
        evaluateInstant(
          ctx(path),
          rng('sum_over_time', sel([m('app', 'bad')]), MIN, { unwrap: unwrap('latency') }),
          t(60),
        ),
        (err: Error) => {
          assert.ok(err instanceof LogPipelineError);
          assert.equal(
            err.message,
            `pipeline error: 'SampleExtractionErr' for series: '{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \\"abc\\": invalid syntax", ${L(E).slice(1, -1)}, latency="abc"}'.\n` +
              'Use a label filter to intentionally skip this error. (e.g | __error__!="SampleExtractionErr").\n' +
              'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
              'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n',
          );
          return true;
        },
      );
    }
  });

  test('many-to-one without group_left is refused', async () => {
    await assert.rejects(
      evaluateInstant(
        ctx('auto'),
        bin('/', cot(), agg('sum', cot(), by('app')), { matching: { on: true, labels: ['app'] } }),
        t(60),
      ),
      (err: Error) =>
        err instanceof MetricEvalError &&
        err.message ===
          'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
  });

  test('limits: series, points, query length, range; deadline', async () => {
    await assert.rejects(
      evaluateInstant(ctx('auto', { limits: { maxSeries: 1 } }), cot(), t(60)),
      (err: Error) =>
        err instanceof MetricLimitError &&
        err.message ===
          'maximum number of series (1) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()',
    );
    await assert.rejects(
      evaluateRange(
        ctx('auto', { limits: { maxSeries: 1 } }),
        agg('topk', cot(), undefined, 1),
        t(60),
        t(180),
        MIN,
      ),
      MetricLimitError,
      'two series over the steps',
    );
    await assert.rejects(
      evaluateRange(ctx('auto'), cot(), t(0), t(0) + 11_001n * SEC, SEC),
      (err: Error) =>
        err.message ===
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
    await evaluateRange(ctx('auto'), cot(), t(0), t(0) + 11_000n * SEC, SEC);
    await assert.rejects(
      evaluateInstant(ctx('auto'), cot(api, 800n * 60n * MIN), t(60)),
      (err: Error) =>
        err.message === 'the query time range exceeds the limit (query length: 800h0m0s, limit: 30d1h)',
    );
    await assert.rejects(
      evaluateRange(ctx('auto', { limits: { maxQueryLength: 60n * MIN } }), cot(), t(0), t(3600), MIN),
      (err: Error) =>
        err.message === 'the query time range exceeds the limit (query length: 1h1m0s, limit: 1h)',
    );
    await assert.rejects(
      evaluateInstant(ctx('auto', { limits: { maxQueryRange: MIN } }), cot(api, 2n * MIN), t(60)),
      (err: Error) => err.message === '[interval] value exceeds limit: [2m] > [1m]',
    );
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(
      evaluateInstant(ctx('stream', { signal: aborted.signal }), cot(), t(60)),
      QueryCancelledError,
    );
  });
});

describeEachStore('push-down and streaming agree', (factory) => {
  let store: Store;
  let settle: () => Promise<void>;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, settle, cleanup } = await tempStore(factory));
    // A deterministic pseudo-random spread of entries over two hours, some on exact step times.
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const recs = [];
    for (let i = 0; i < 3000; i++) {
      const pod = `p${rand(5)}`;
      const ts =
        rand(4) === 0
          ? T + BigInt(rand(120)) * MIN
          : T + BigInt(rand(7_200_000)) * 1_000_000n + BigInt(rand(1000));
      recs.push(
        rec(
          { app: 'rand', pod },
          ts,
          `line ${i} ${'x'.repeat(rand(40))}${rand(3) === 0 ? ' error' : ''}`,
          rand(7) === 0 ? { user: `u${rand(2)}` } : {},
        ),
      );
    }
    recs.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    await store.append('rand', recs.slice(0, 2000));
    await settle();
    await store.append('rand', recs.slice(2000)); // some still in the write-ahead log
  });
  after(() => cleanup());

  const fns = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time'] as const;
  const shapes: [bigint, bigint, bigint][] = [
    [MIN, MIN, 0n],
    [5n * MIN, MIN, 0n],
    [MIN, 5n * MIN, 0n],
    [7n * MIN, 3n * MIN, 2n * MIN],
    [90n * SEC, 40n * SEC, 0n],
    [17n * SEC, 17n * SEC, 13n * SEC],
  ];
  for (const fn of fns) {
    test(fn, async () => {
      for (const [range, step, offset] of shapes) {
        for (const filters of [
          [],
          [{ type: 'lineFilter' as const, op: '|=' as const, value: 'error', or: [] }],
        ]) {
          const expr = rng(fn, sel([m('app', 'rand')], filters), range, { offset });
          const base = { store, tenant: 'rand', limits: { maxSeries: 10_000 } };
          const a = await evaluateRange({ ...base, path: 'auto' }, expr, T - 10n * MIN, T + 130n * MIN, step);
          const b = await evaluateRange(
            { ...base, path: 'stream' },
            expr,
            T - 10n * MIN,
            T + 130n * MIN,
            step,
          );
          assert.ok(a.stats.linesCounted > 0 && a.stats.linesProcessed === 0, 'push-down used');
          assert.ok(b.stats.linesProcessed > 0 && b.stats.linesCounted === 0, 'streaming used');
          assert.deepEqual(a.series, b.series, `${fn} range ${range} step ${step} offset ${offset}`);
          const summed = agg('sum', expr, by('pod'));
          const sa = await evaluateRange(
            { ...base, path: 'auto' },
            summed,
            T - 10n * MIN,
            T + 130n * MIN,
            step,
          );
          const sb = await evaluateRange(
            { ...base, path: 'stream' },
            summed,
            T - 10n * MIN,
            T + 130n * MIN,
            step,
          );
          assert.deepEqual(sa.series, sb.series, `sum by (pod) of ${fn}`);
          const ia = await evaluateInstant({ ...base, path: 'auto' }, expr, T + 61n * MIN + 7n);
          const ib = await evaluateInstant({ ...base, path: 'stream' }, expr, T + 61n * MIN + 7n);
          assert.deepEqual(ia, { ...ib, stats: ia.stats });
        }
      }
    });
  }
});
