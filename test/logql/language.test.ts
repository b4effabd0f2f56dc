import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Expr, LabelFilter, LogExpr, MetricExpr, PipelineStage } from '../../src/logql/ast.js';
import { LogqlParseError } from '../../src/logql/errors.js';
import { formatDuration, formatExpr, quote } from '../../src/logql/format.js';
import { parseLogql } from '../../src/logql/parser.js';

const SEL = [{ name: 'app', op: '=', value: 'a' }] as const;

function log(q: string): LogExpr {
  const e = parseLogql(q);
  if (e.type !== 'log') throw new Error(`expected a log query: ${q}`);
  return e;
}

function stages(q: string): readonly PipelineStage[] {
  return log(q).pipeline;
}

function filter(q: string): LabelFilter {
  const s = stages(q).at(-1);
  if (s?.type !== 'labelFilter') throw new Error(`expected a label filter: ${q}`);
  return s.filter;
}

function metric(q: string): MetricExpr {
  const e: Expr = parseLogql(q);
  if (e.type === 'log') throw new Error(`expected a metric query: ${q}`);
  return e;
}

const str = (name: string, value: string, op: '=' | '!=' | '=~' | '!~' = '=') =>
  ({ kind: 'string', name, op, value }) as const;

test('line filters: pattern, ip and or', () => {
  assert.deepEqual(stages('{app="a"} |> "<_> error <_>" or "<_> warn" !> "x"'), [
    { type: 'lineFilter', op: '|>', value: '<_> error <_>', or: ['<_> warn'] },
    { type: 'lineFilter', op: '!>', value: 'x', or: [] },
  ]);
  assert.deepEqual(stages('{app="a"} != ip("10.0.0.0/8")'), [
    { type: 'lineFilter', op: '!=', value: '10.0.0.0/8', or: [], ip: true },
  ]);
});

test('parsers with parameters and flags', () => {
  assert.deepEqual(stages('{app="a"} | json a="b.c", d | logfmt --strict --keep-empty x, y="z" | unpack'), [
    {
      type: 'json',
      params: [
        { label: 'a', path: 'b.c' },
        { label: 'd', path: 'd' },
      ],
    },
    {
      type: 'logfmt',
      strict: true,
      keepEmpty: true,
      params: [
        { label: 'x', key: 'x' },
        { label: 'y', key: 'z' },
      ],
    },
    { type: 'unpack' },
  ]);
  assert.deepEqual(stages('{app="a"} | logfmt --keep-empty'), [
    { type: 'logfmt', strict: false, keepEmpty: true, params: [] },
  ]);
  assert.deepEqual(stages('{app="a"} | regexp `(?P<ip>\\S+)` | pattern "<_> <status>" | decolorize'), [
    { type: 'regexp', regex: '(?P<ip>\\S+)' },
    { type: 'pattern', pattern: '<_> <status>' },
    { type: 'decolorize' },
  ]);
});

test('label filter values: strings, numbers, durations, bytes, ip', () => {
  assert.deepEqual(filter('{app="a"} | x=~"a.*"'), str('x', 'a.*', '=~'));
  assert.deepEqual(filter('{app="a"} | x >= 400'), { kind: 'number', name: 'x', op: '>=', value: 400 });
  assert.deepEqual(filter('{app="a"} | x = 2'), { kind: 'number', name: 'x', op: '==', value: 2 });
  assert.deepEqual(filter('{app="a"} | x < -1.5e2'), { kind: 'number', name: 'x', op: '<', value: -150 });
  assert.deepEqual(filter('{app="a"} | took > 1m30s'), {
    kind: 'duration',
    name: 'took',
    op: '>',
    value: 90e9,
  });
  assert.deepEqual(filter('{app="a"} | size > 20MB'), { kind: 'bytes', name: 'size', op: '>', value: 20e6 });
  assert.deepEqual(filter('{app="a"} | size <= 1.5KiB'), {
    kind: 'bytes',
    name: 'size',
    op: '<=',
    value: 1536,
  });
  assert.deepEqual(filter('{app="a"} | size == 3K'), { kind: 'bytes', name: 'size', op: '==', value: 3000 });
  assert.deepEqual(filter('{app="a"} | addr != ip("1.2.3.4")'), {
    kind: 'ip',
    name: 'addr',
    op: '!=',
    value: '1.2.3.4',
  });
});

test("label filter precedence: and over or, `,` and juxtaposition as yacc's shift makes them", () => {
  const [a, b, c, d] = [str('a', '1'), str('b', '2'), str('c', '3'), str('d', '4')];
  assert.deepEqual(filter('{app="a"} | a="1" or b="2" and c="3"'), {
    kind: 'or',
    left: a,
    right: { kind: 'and', left: b, right: c },
  });
  assert.deepEqual(filter('{app="a"} | a="1" and b="2" or c="3"'), {
    kind: 'or',
    left: { kind: 'and', left: a, right: b },
    right: c,
  });
  assert.deepEqual(filter('{app="a"} | (a="1" or b="2") and c="3"'), {
    kind: 'and',
    left: { kind: 'or', left: a, right: b },
    right: c,
  });
  assert.deepEqual(filter('{app="a"} | a="1", b="2" or c="3"'), {
    kind: 'and',
    left: a,
    right: { kind: 'or', left: b, right: c },
  });
  assert.deepEqual(filter('{app="a"} | a="1" and b="2", c="3" or d="4"'), {
    kind: 'and',
    left: a,
    right: { kind: 'and', left: b, right: { kind: 'or', left: c, right: d } },
  });
  assert.deepEqual(filter('{app="a"} | a="1" b="2"'), { kind: 'and', left: a, right: b });
  assert.deepEqual(filter('{app="a"} | a="1" OR b="2"'), { kind: 'or', left: a, right: b });
});

test('formatting stages: line_format, label_format, drop, keep', () => {
  assert.deepEqual(stages('{app="a"} | line_format "{{.a}}" | label_format x=y, z=`{{.w}}`'), [
    { type: 'lineFormat', template: '{{.a}}' },
    {
      type: 'labelFormat',
      ops: [
        { label: 'x', kind: 'rename', value: 'y' },
        { label: 'z', kind: 'template', value: '{{.w}}' },
      ],
    },
  ]);
  assert.deepEqual(stages('{app="a"} | drop a, b="v" | keep c, d!~"x.*"'), [
    { type: 'drop', labels: [{ name: 'a' }, { name: 'b', matcher: { op: '=', value: 'v' } }] },
    { type: 'keep', labels: [{ name: 'c' }, { name: 'd', matcher: { op: '!~', value: 'x.*' } }] },
  ]);
});

test('range aggregations: unwrap, conversions, post-filters, param, grouping, offset', () => {
  assert.deepEqual(
    metric(
      'quantile_over_time(0.99, {app="a"} | json | unwrap duration(took) | __error__="" [5m] offset 1h) by (pod)',
    ),
    {
      type: 'range',
      fn: 'quantile_over_time',
      log: { type: 'log', matchers: SEL, pipeline: [{ type: 'json', params: [] }] },
      range: 300_000_000_000n,
      offset: 3_600_000_000_000n,
      unwrap: { label: 'took', conversion: 'duration', postFilters: [str('__error__', '')] },
      param: 0.99,
      grouping: { without: false, labels: ['pod'] },
    },
  );
  const forms = [
    'sum_over_time({app="a"} | unwrap bytes(size) [1m])',
    'sum_over_time({app="a"} [1m] | unwrap bytes(size))',
    'sum_over_time(({app="a"} | unwrap bytes(size))[1m])',
    'sum_over_time(({app="a"} | unwrap bytes(size) [1m]))',
  ];
  for (const q of forms) assert.deepEqual(metric(q), metric(forms[0]!), q);
  const r = metric('rate_counter({app="a"} | unwrap duration_seconds(t) [1m])');
  assert.equal(r.type === 'range' && r.unwrap?.conversion, 'duration_seconds');
});

test('vector aggregations: params and grouping before or after', () => {
  const inner = metric('rate({app="a"}[1m])');
  assert.deepEqual(metric('topk by (a) (3, rate({app="a"}[1m]))'), {
    type: 'vector',
    op: 'topk',
    grouping: { without: false, labels: ['a'] },
    param: 3,
    expr: inner,
  });
  assert.deepEqual(metric('bottomk(2, rate({app="a"}[1m])) without (b)'), {
    type: 'vector',
    op: 'bottomk',
    grouping: { without: true, labels: ['b'] },
    param: 2,
    expr: inner,
  });
  assert.deepEqual(metric('sort_desc(rate({app="a"}[1m]))'), {
    type: 'vector',
    op: 'sort_desc',
    grouping: undefined,
    expr: inner,
  });
});

test('binary operators: precedence, associativity, bool and vector matching', () => {
  const n = (value: number) => ({ type: 'number', value }) as const;
  const bin = (op: string, left: unknown, right: unknown) => ({
    type: 'binary',
    op,
    returnBool: false,
    left,
    right,
  });
  assert.deepEqual(metric('1 + 2 * 3'), bin('+', n(1), bin('*', n(2), n(3))));
  assert.deepEqual(metric('1 - 2 - 3'), bin('-', bin('-', n(1), n(2)), n(3)));
  assert.deepEqual(metric('2 ^ 3 ^ 2'), bin('^', n(2), bin('^', n(3), n(2))));
  assert.deepEqual(metric('(1 + 2) * -3'), bin('*', bin('+', n(1), n(2)), n(-3)));
  assert.deepEqual(metric('vector(1) or vector(2) and vector(3)'), {
    ...bin(
      'or',
      { type: 'vectorLiteral', value: 1 },
      bin('and', { type: 'vectorLiteral', value: 2 }, { type: 'vectorLiteral', value: 3 }),
    ),
  });
  assert.deepEqual(metric('1 > bool 2'), { ...bin('>', n(1), n(2)), returnBool: true });
  // Loki validates neither (it folds literal operations; PromQL would refuse these).
  assert.deepEqual(metric('1 > 2'), bin('>', n(1), n(2)));
  assert.deepEqual(metric('vector(1) + bool vector(2)'), {
    ...bin('+', { type: 'vectorLiteral', value: 1 }, { type: 'vectorLiteral', value: 2 }),
    returnBool: true,
  });
  const m = metric('vector(1) / ignoring (a, b) group_right (c) vector(2)');
  assert.deepEqual(m.type === 'binary' && m.matching, {
    on: false,
    labels: ['a', 'b'],
    group: { side: 'right', include: ['c'] },
  });
  const on = metric('vector(1) + on () vector(2)');
  assert.deepEqual(on.type === 'binary' && on.matching, { on: true, labels: [] });
  // Numbers are Go's strconv.ParseFloat (Loki's mustNewLiteralExpr): hex floats need a p exponent.
  assert.deepEqual(metric('0x1p3'), n(8));
  assert.deepEqual(metric('0x1.8p3'), n(12));
  assert.throws(
    () => metric('0x1f'),
    /^LogqlParseError: parse error : unable to parse literal as a float: strconv\.ParseFloat: parsing "0x1f": invalid syntax$/,
  );
  assert.deepEqual(metric('label_replace(vector(1), "dst", "$1", "src", "(.*)")'), {
    type: 'labelReplace',
    expr: { type: 'vectorLiteral', value: 1 },
    dst: 'dst',
    replacement: '$1',
    src: 'src',
    regex: '(.*)',
  });
});

test('formatExpr prints canonical LogQL', () => {
  const cases: [string, string][] = [
    ['{app="a",b=~"x"}|="y"', '{app="a", b=~"x"} |= "y"'],
    ['sum by(a)(rate({app="a"}[90s]))', 'sum by (a) (rate({app="a"}[1m30s]))'],
    ['(1 + 2) * 3', '(1 + 2) * 3'],
    ['1 - (2 - 3)', '1 - (2 - 3)'],
    ['(2 ^ 3) ^ 2', '(2 ^ 3) ^ 2'],
    ['{app="a"} | a="1", (b="2" or c="3")', '{app="a"} | a="1" and (b="2" or c="3")'],
    ['{app="a"} | json x="a.b"', '{app="a"} | json x="a.b"'],
    ['{app="a"} |~ "\\\\d+"', '{app="a"} |~ `\\d+`'],
  ];
  for (const [q, want] of cases) assert.equal(formatExpr(parseLogql(q)), want, q);
  assert.equal(formatDuration(0n), '0s');
  assert.equal(formatDuration(86_400_000_000_001n), '1d1ns');
  assert.equal(quote('a"b\n'), '"a\\"b\\n"');
});

test('rewriting a query: inject a matcher and print it', () => {
  const e = parseLogql('sum by (a) (count_over_time({app="a"} |= "x" [5m]))');
  if (e.type !== 'vector' || e.expr.type !== 'range') throw new Error('unexpected shape');
  const rewritten: Expr = {
    ...e,
    expr: {
      ...e.expr,
      log: { ...e.expr.log, matchers: [...e.expr.log.matchers, { name: 'tenant', op: '=', value: 't1' }] },
    },
  };
  assert.equal(formatExpr(rewritten), 'sum by (a) (count_over_time({app="a", tenant="t1"} |= "x" [5m]))');
});

test('validation errors with Loki wording and positions', () => {
  const cases: [string, RegExp][] = [
    ['count_over_time({app="a"} | unwrap x [5m])', /col 1: invalid aggregation count_over_time with unwrap/],
    ['rate_counter({app="a"}[5m])', /col 1: invalid aggregation rate_counter without unwrap/],
    ['sum_over_time({app="a"}[5m])', /invalid aggregation sum_over_time without unwrap/],
    ['count_over_time({app="a"}[5m]) by (a)', /grouping not allowed for count_over_time aggregation/],
    [
      'quantile_over_time({app="a"} | unwrap x [5m])',
      /col 20: parameter required for operation quantile_over_time/,
    ],
    ['rate(1, {app="a"}[5m])', /col 6: parameter 1 not supported for operation rate/],
    ['topk(rate({app="a"}[5m]))', /col 6: parameter required for operation topk/],
    ['topk(0, rate({app="a"}[5m]))', /invalid parameter \(must be greater than 0\) topk\(0/],
    ['sum(2, rate({app="a"}[5m]))', /unsupported parameter for operation sum\(2,/],
    [
      '{app="a"} | regexp "(a)"',
      /col 20: invalid regexp parser: at least one named capture must be supplied/,
    ],
    ['{app="a"} | regexp "(?P<a>"', /invalid regexp parser: error parsing regexp/],
    ['{app="a"} | pattern "<_> x"', /col 21: invalid pattern parser: at least one capture is required/],
    ['{app="a"} | pattern "<a><b>"', /found consecutive capture '<a><b>': invalid expression/],
    ['{app="a"} | pattern "<a> <a>"', /duplicate capture name \(a\): invalid expression/],
    ['{app="a"} | x=~"["', /col 16: error parsing regexp/],
    [
      '{app="a"} | label_format a=b, a="c"',
      /multiple label name 'a' not allowed in a single format operation/,
    ],
    [
      '1 and vector(1)',
      /col 3: unexpected literal for left leg of logical\/set binary operation \(and\): 1\.000000/,
    ],
    ['rate({app="a"}[1m]) by (a)', /col 1: grouping not allowed for rate aggregation/],
    [
      '{app="a"} + 1',
      /col 1: unexpected type for left leg of binary operation \(\+\): \*syntax.MatchersExpr/,
    ],
    [
      '1 + ({app="a"} |= "x")',
      /col 5: unexpected type for right leg of binary operation \(\+\): \*syntax.PipelineExpr/,
    ],
    ['label_replace(vector(1), "x", "", "a", "(")', /invalid regex in label_replace/],
    ['sum({app="a"})', /col 5: syntax error: unexpected log query/],
    ['{app="a"} |~ ip("1.2.3.4")', /ip\(\) line filters take \|= or !=/],
    ['{app="a"} | logfmt | size == 20kb', /unexpected IDENT b/],
    ['{app="a"}\n  | json\n  | x > "y"', /line 3, col 9: syntax error: unexpected STRING "y"/],
    ['sum by (a\n(rate({app="a"}[1m]))', /line 2, col 1: syntax error: unexpected \(, expecting \)|,/],
    ['rate({app="a"}[5m]', /unexpected end of input, expecting \)/],
    ['{app="a"} | json a=', /unexpected end of input, expecting STRING/],
    ['{} |= "x"', /queries require at least one regexp or equality matcher/],
  ];
  for (const [q, re] of cases) {
    assert.throws(
      () => parseLogql(q),
      (err: unknown) => err instanceof LogqlParseError && re.test(err.message),
      q,
    );
  }
});

test('formatExpr round-trips generated trees (precedence and associativity of every operator)', () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const ops = [
    'or',
    'and',
    'unless',
    '==',
    '!=',
    '>',
    '>=',
    '<',
    '<=',
    '+',
    '-',
    '*',
    '/',
    '%',
    '^',
  ] as const;
  const metricTree = (depth: number): MetricExpr => {
    // vector() takes a bare NUMBER in Loki's grammar: no sign.
    if (depth === 0 || rand(3) === 0) return { type: 'vectorLiteral', value: rand(3) };
    const op = ops[rand(ops.length)]!;
    const returnBool = ['==', '!=', '>', '>=', '<', '<='].includes(op) && rand(2) === 0;
    return { type: 'binary', op, returnBool, left: metricTree(depth - 1), right: metricTree(depth - 1) };
  };
  const filterTree = (depth: number): LabelFilter => {
    if (depth === 0 || rand(3) === 0) {
      const leaves: LabelFilter[] = [
        str(`l${rand(9)}`, `v"${rand(9)}\\`, '='),
        { kind: 'number', name: 'n', op: '>=', value: (rand(2000) - 1000) / 8 },
        { kind: 'duration', name: 'd', op: '<', value: rand(10_000) * 1_000_000 },
        { kind: 'bytes', name: 'b', op: '==', value: rand(100_000) },
        { kind: 'ip', name: 'i', op: '!=', value: '10.0.0.0/8' },
      ];
      return leaves[rand(leaves.length)]!;
    }
    return { kind: rand(2) ? 'and' : 'or', left: filterTree(depth - 1), right: filterTree(depth - 1) };
  };
  for (let k = 0; k < 300; k++) {
    const m = metricTree(4);
    assert.deepEqual(parseLogql(formatExpr(m)), m, formatExpr(m));
    const l: LogExpr = {
      type: 'log',
      matchers: SEL,
      pipeline: [{ type: 'labelFilter', filter: filterTree(4) }],
    };
    assert.deepEqual(parseLogql(formatExpr(l)), l, formatExpr(l));
  }
});
