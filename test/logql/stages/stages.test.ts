import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PipelineStage } from '../../../src/logql/ast.js';
import { compileLogPipeline, LogPipelineCompileError } from '../../../src/logql/stages/index.js';
import { filter, flat, json, labelFormat, lf, lineFormat, logfmt, num, run, str } from './helpers.js';

type Case = {
  name: string;
  stages: PipelineStage[];
  line: string;
  stream?: Record<string, string>;
  metadata?: Record<string, string>;
  want: { line?: string; labels: Record<string, string> } | undefined;
};

// Cases from Loki's documentation (log_queries/_index.md) and parser tests.
const cases: Case[] = [
  // line filters
  { name: '|= contains', stages: [lf('|=', 'error')], line: 'an error here', want: { labels: {} } },
  { name: '|= drops', stages: [lf('|=', 'error')], line: 'all good', want: undefined },
  { name: '|= empty matches all', stages: [lf('|=', '')], line: 'x', want: { labels: {} } },
  { name: '!= keeps', stages: [lf('!=', 'timeout')], line: 'ok', want: { labels: {} } },
  { name: '!= drops', stages: [lf('!=', 'timeout')], line: 'a timeout', want: undefined },
  { name: '|~ unanchored', stages: [lf('|~', 'err(or)?')], line: 'an err', want: { labels: {} } },
  { name: '|~ case-insensitive', stages: [lf('|~', '(?i)ERROR')], line: 'an error', want: { labels: {} } },
  { name: '!~', stages: [lf('!~', 'status=5\\d\\d')], line: 'status=503', want: undefined },
  { name: '|= or', stages: [lf('|=', 'a', ['b'])], line: 'xbx', want: { labels: {} } },
  { name: '!= or drops any', stages: [lf('!=', 'a', ['b'])], line: 'xbx', want: undefined },
  { name: '!= or keeps none', stages: [lf('!=', 'a', ['b'])], line: 'xcx', want: { labels: {} } },
  { name: '|~ or', stages: [lf('|~', '^a', ['^b'])], line: 'bc', want: { labels: {} } },
  {
    name: '|> pattern',
    stages: [lf('|>', '<_> level=error <_>')],
    line: 'ts=1 level=error msg=x',
    want: { labels: {} },
  },
  { name: '|> pattern whole line', stages: [lf('|>', 'GET <_>')], line: 'POST /x', want: undefined },
  { name: '!> pattern', stages: [lf('!>', '<_> level=debug <_>')], line: 'a level=debug b', want: undefined },
  {
    name: 'ip single',
    stages: [lf('|=', '192.168.4.5', [], true)],
    line: 'from 192.168.4.5:80',
    want: { labels: {} },
  },
  {
    name: 'ip cidr',
    stages: [lf('|=', '192.168.4.0/24', [], true)],
    line: 'from 192.168.4.77 ok',
    want: { labels: {} },
  },
  {
    name: 'ip cidr miss',
    stages: [lf('|=', '192.168.4.0/24', [], true)],
    line: 'from 192.168.5.77',
    want: undefined,
  },
  {
    name: 'ip range',
    stages: [lf('|=', '192.168.4.5-192.168.4.20', [], true)],
    line: 'x=192.168.4.10',
    want: { labels: {} },
  },
  {
    name: 'ip v6',
    stages: [lf('|=', '2001:db8::/32', [], true)],
    line: 'addr 2001:db8::1 up',
    want: { labels: {} },
  },
  { name: '!= ip', stages: [lf('!=', '10.0.0.1', [], true)], line: 'from 10.0.0.1', want: undefined },
  // decolorize
  {
    name: 'decolorize',
    stages: [{ type: 'decolorize' }],
    line: '\u001b[31mred\u001b[0m and \u001b[1;32mgreen\u001b[0m',
    want: { line: 'red and green', labels: {} },
  },
  // json
  {
    name: 'json docs example',
    stages: [json()],
    line: '{"protocol":"HTTP/2.0","servers":["129.0.1.1","10.2.1.3"],"request":{"time":"6.032","method":"GET","host":"foo.grafana.net","size":"55","headers":{"Accept":"*/*","User-Agent":"curl/7.68.0"}},"response":{"status":401,"size":"228","latency_seconds":"6.031"}}',
    want: {
      labels: {
        protocol: 'HTTP/2.0',
        request_time: '6.032',
        request_method: 'GET',
        request_host: 'foo.grafana.net',
        request_size: '55',
        request_headers_Accept: '*/*',
        request_headers_User_Agent: 'curl/7.68.0',
        response_status: '401',
        response_size: '228',
        response_latency_seconds: '6.031',
      },
    },
  },
  {
    name: 'json params docs example',
    stages: [
      json([
        { label: 'first_server', path: 'servers[0]' },
        { label: 'ua', path: 'request.headers["User-Agent"]' },
      ]),
    ],
    line: '{"protocol":"HTTP/2.0","servers":["129.0.1.1","10.2.1.3"],"request":{"headers":{"User-Agent":"curl/7.68.0"}}}',
    want: { labels: { first_server: '129.0.1.1', ua: 'curl/7.68.0' } },
  },
  {
    name: 'json params object value, missing path',
    stages: [
      json([
        { label: 'req', path: 'request' },
        { label: 'nope', path: 'a.b' },
      ]),
    ],
    line: '{"request":{"a": 1}}',
    want: { labels: { req: '{"a": 1}', nope: '' } },
  },
  {
    name: 'json _extracted',
    stages: [json()],
    line: '{"app":"frontend","level":"info"}',
    stream: { app: 'foo' },
    want: { labels: { app: 'foo', app_extracted: 'frontend', level: 'info' } },
  },
  {
    name: 'json sanitises names, numbers kept as text',
    stages: [json()],
    line: '{"a.b-c":1.50,"2x":"y","é":"z","n":1e3}',
    want: { labels: { a_b_c: '1.50', _2x: 'y', _: 'z', n: '1e3' } },
  },
  {
    name: 'json escapes',
    stages: [json()],
    line: '{"msg":"a\\"b\\n\\u00e9"}',
    want: { labels: { msg: 'a"b\né' } },
  },
  {
    name: 'json error',
    stages: [json()],
    line: 'not json',
    want: {
      labels: {
        __error__: 'JSONParserErr',
        __error_details__: "Value looks like object, but can't find closing '}' symbol",
      },
    },
  },
  {
    name: 'json partial then error',
    stages: [json()],
    line: '{"a":"b", "c":',
    want: {
      labels: {
        a: 'b',
        __error__: 'JSONParserErr',
        // jsonparser's Get finds no value after the colon (see test/logql/conformance-parsers.test.ts)
        __error_details__: 'Malformed JSON error',
      },
    },
  },
  {
    name: 'json params on non-JSON',
    stages: [json([{ label: 'a', path: 'a' }])],
    line: 'text',
    want: { labels: { __error__: 'JSONParserErr' } },
  },
  // logfmt
  {
    name: 'logfmt docs example',
    stages: [logfmt()],
    line: 'at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" service=8ms status=200',
    want: {
      labels: {
        at: 'info',
        method: 'GET',
        path: '/',
        host: 'grafana.net',
        fwd: '124.133.124.161',
        service: '8ms',
        status: '200',
      },
    },
  },
  {
    name: 'logfmt empty dropped',
    stages: [logfmt()],
    line: 'a= b=1 c',
    want: { labels: { b: '1' } },
  },
  {
    name: 'logfmt --keep-empty',
    stages: [logfmt({ keepEmpty: true })],
    line: 'a= b=1 c',
    want: { labels: { a: '', b: '1', c: '' } },
  },
  {
    name: 'logfmt skips malformed pairs',
    stages: [logfmt()],
    line: 'a=1 =x b=2',
    want: { labels: { a: '1', b: '2' } },
  },
  {
    name: 'logfmt --strict stops',
    stages: [logfmt({ strict: true })],
    line: 'a=1 =x b=2',
    want: {
      labels: {
        a: '1',
        __error__: 'LogfmtParserErr',
        __error_details__: "logfmt syntax error at pos 5 : unexpected '='",
      },
    },
  },
  {
    name: 'logfmt params',
    stages: [
      logfmt({
        params: [
          { label: 'm', key: 'method' },
          { label: 'status', key: 'status' },
        ],
      }),
    ],
    line: 'method=GET status=200 other=1',
    want: { labels: { m: 'GET', status: '200' } },
  },
  {
    name: 'logfmt quoted with escapes',
    stages: [logfmt()],
    line: 'msg="a \\"quoted\\" word" k=v',
    want: { labels: { msg: 'a "quoted" word', k: 'v' } },
  },
  {
    name: 'logfmt _extracted and sanitised',
    stages: [logfmt()],
    line: 'job=x my.key=1',
    stream: { job: 'j' },
    want: { labels: { job: 'j', job_extracted: 'x', my_key: '1' } },
  },
  // regexp
  {
    name: 'regexp docs example',
    stages: [
      {
        type: 'regexp',
        regex: '(?P<method>\\w+) (?P<path>[\\w|/]+) \\((?P<status>\\d+?)\\) (?P<duration>.*)',
      },
    ],
    line: 'POST /api/prom/api/v1/query_range (200) 1.5s',
    want: {
      labels: { method: 'POST', path: '/api/prom/api/v1/query_range', status: '200', duration: '1.5s' },
    },
  },
  {
    name: 'regexp no match keeps line',
    stages: [{ type: 'regexp', regex: '(?P<x>\\d+)' }],
    line: 'none',
    want: { labels: {} },
  },
  // pattern
  {
    name: 'pattern docs example',
    stages: [
      { type: 'pattern', pattern: '<ip> - - <_> "<method> <uri> <_>" <status> <size> <_> "<agent>" <_>' },
    ],
    line: '188.3.85.165 - - [03/Apr/2021:09:17:58 +0000] "GET /api/v1/foo HTTP/1.1" 200 35 "-" "Go-http-client/1.1" "-"',
    want: {
      labels: {
        ip: '188.3.85.165',
        method: 'GET',
        uri: '/api/v1/foo',
        status: '200',
        size: '35',
        agent: 'Go-http-client/1.1',
      },
    },
  },
  {
    name: 'pattern partial match',
    stages: [{ type: 'pattern', pattern: '<a> <b> [<c>]' }],
    line: 'x y z',
    want: { labels: { a: 'x', b: 'y z' } },
  },
  // unpack
  {
    name: 'unpack',
    stages: [{ type: 'unpack' }],
    line: '{"container":"myapp","pod":"p1","_entry":"original log message","n":1}',
    stream: { pod: 'p0' },
    want: { line: 'original log message', labels: { pod: 'p0', container: 'myapp', pod_extracted: 'p1' } },
  },
  {
    name: 'unpack without _entry sets no labels',
    stages: [{ type: 'unpack' }],
    line: '{"container":"myapp"}',
    want: { labels: {} },
  },
  {
    name: 'unpack on text',
    stages: [{ type: 'unpack' }],
    line: 'text',
    want: {
      labels: { __error__: 'JSONParserErr', __error_details__: 'expecting json object(6), but it is not' },
    },
  },
  // label filters
  {
    name: 'numeric filter',
    stages: [logfmt(), filter(num('status', '>=', 400))],
    line: 'status=503',
    want: { labels: { status: '503' } },
  },
  {
    name: 'numeric filter drops',
    stages: [logfmt(), filter(num('status', '>=', 400))],
    line: 'status=200',
    want: undefined,
  },
  {
    name: 'numeric filter on missing label drops',
    stages: [filter(num('status', '!=', 400))],
    line: 'x',
    want: undefined,
  },
  {
    name: 'numeric filter on non-number keeps with LabelFilterErr',
    stages: [logfmt(), filter(num('status', '>', 1))],
    line: 'status=abc',
    want: {
      labels: {
        status: 'abc',
        __error__: 'LabelFilterErr',
        __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax',
      },
    },
  },
  {
    name: 'string filter on missing label is ""',
    stages: [filter(str('nope', '=', ''))],
    line: 'x',
    want: { labels: {} },
  },
  {
    name: 'regex label filter is anchored',
    stages: [logfmt(), filter(str('method', '=~', 'GE'))],
    line: 'method=GET',
    want: undefined,
  },
  {
    name: 'duration filter',
    stages: [logfmt(), filter({ kind: 'duration', name: 'took', op: '>', value: 1e9 })],
    line: 'took=1h2m3.5s',
    want: { labels: { took: '1h2m3.5s' } },
  },
  {
    name: 'duration µs',
    stages: [logfmt(), filter({ kind: 'duration', name: 'took', op: '<', value: 1e6 })],
    line: 'took=250µs',
    want: { labels: { took: '250µs' } },
  },
  {
    name: 'bytes filter',
    stages: [logfmt(), filter({ kind: 'bytes', name: 'size', op: '>', value: 20e6 })],
    line: 'size=1KiB',
    want: undefined,
  },
  {
    name: 'bytes filter MB',
    stages: [logfmt(), filter({ kind: 'bytes', name: 'size', op: '>=', value: 20e6 })],
    line: 'size=20MB',
    want: { labels: { size: '20MB' } },
  },
  {
    name: 'ip label filter',
    stages: [logfmt(), filter({ kind: 'ip', name: 'addr', op: '=', value: '10.0.0.0/8' })],
    line: 'addr=10.1.2.3',
    want: { labels: { addr: '10.1.2.3' } },
  },
  {
    name: 'and / or (docs)',
    stages: [
      logfmt(),
      filter({
        kind: 'or',
        left: {
          kind: 'and',
          left: { kind: 'duration', name: 'duration', op: '>=', value: 20e6 },
          right: str('method', '=', 'GET'),
        },
        right: { kind: 'bytes', name: 'size', op: '>', value: 20e3 },
      }),
    ],
    line: 'duration=10ms method=GET size=30kb',
    want: { labels: { duration: '10ms', method: 'GET', size: '30kb' } },
  },
  {
    name: '__error__ filter drops errors',
    stages: [json(), filter(str('__error__', '=', ''))],
    line: 'not json',
    want: undefined,
  },
  {
    name: '__error__ filter keeps good lines',
    stages: [json(), filter(str('__error__', '=', ''))],
    line: '{"a":"b"}',
    want: { labels: { a: 'b' } },
  },
  // line_format / label_format
  {
    name: 'line_format docs',
    stages: [logfmt(), lineFormat('{{.query}} {{.duration}}')],
    line: 'query="sum(rate(x[5m]))" duration=2.3s',
    want: { line: 'sum(rate(x[5m])) 2.3s', labels: { query: 'sum(rate(x[5m]))', duration: '2.3s' } },
  },
  {
    name: 'line_format missing label is empty',
    stages: [lineFormat('[{{.nope}}]')],
    line: 'x',
    want: { line: '[]', labels: {} },
  },
  {
    name: 'line_format error keeps line',
    stages: [lineFormat('{{ div 1 0 }}')],
    line: 'keep me',
    want: {
      line: 'keep me',
      labels: {
        __error__: 'TemplateFormatErr',
        __error_details__:
          'template: line: executing "line": error calling div: runtime error: integer divide by zero',
      },
    },
  },
  {
    // Loki applies the renames before it takes the labels for the templates: .src is gone.
    name: 'label_format rename and template',
    stages: [
      logfmt(),
      labelFormat(
        { label: 'dst', kind: 'rename', value: 'src' },
        { label: 'up', kind: 'template', value: '{{ .src | ToUpper }}-{{ .other }}' },
      ),
    ],
    line: 'src=a other=b',
    want: { labels: { dst: 'a', up: '-b', other: 'b' } },
  },
  {
    name: 'label_format rename a stream label keeps the category',
    stages: [labelFormat({ label: 'application', kind: 'rename', value: 'app' })],
    line: 'x',
    stream: { app: 'a', ns: 'n' },
    want: { labels: { application: 'a', ns: 'n' } },
  },
  {
    name: 'label_format __line__ and __timestamp__',
    stages: [
      labelFormat({
        label: 'l',
        kind: 'template',
        value: '{{ __line__ | upper }} {{ __timestamp__ | unixEpoch }}',
      }),
    ],
    line: 'hello',
    want: { labels: { l: 'HELLO 1700000000' } },
  },
  // drop / keep
  {
    name: 'drop',
    stages: [
      logfmt(),
      { type: 'drop', labels: [{ name: 'level' }, { name: 'method', matcher: { op: '=', value: 'GET' } }] },
    ],
    line: 'level=info method=GET path=/',
    stream: { app: 'a' },
    want: { labels: { app: 'a', path: '/' } },
  },
  {
    name: 'drop with non-matching matcher',
    stages: [logfmt(), { type: 'drop', labels: [{ name: 'method', matcher: { op: '=', value: 'POST' } }] }],
    line: 'method=GET',
    want: { labels: { method: 'GET' } },
  },
  {
    name: 'drop __error__',
    stages: [json(), { type: 'drop', labels: [{ name: '__error__' }, { name: '__error_details__' }] }],
    line: 'nope',
    want: { labels: {} },
  },
  {
    name: 'keep',
    stages: [logfmt(), { type: 'keep', labels: [{ name: 'level' }, { name: 'app' }] }],
    line: 'level=info method=GET',
    stream: { app: 'a', ns: 'n' },
    want: { labels: { app: 'a', level: 'info' } },
  },
  {
    name: 'keep with matcher',
    stages: [
      logfmt(),
      { type: 'keep', labels: [{ name: 'level', matcher: { op: '=', value: 'debug' } }, { name: 'method' }] },
    ],
    line: 'level=info method=GET',
    want: { labels: { method: 'GET' } },
  },
  {
    name: 'keep never removes the error',
    stages: [json(), { type: 'keep', labels: [{ name: 'x' }] }],
    line: 'nope',
    stream: { app: 'a' },
    want: {
      labels: {
        __error__: 'JSONParserErr',
        __error_details__: "Value looks like object, but can't find closing '}' symbol",
      },
    },
  },
];

describe('conformance with Loki', () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = flat(c.stages, c.line, c.stream ?? {}, c.metadata ?? {});
      if (c.want === undefined) {
        assert.equal(got, undefined);
        return;
      }
      assert.ok(got, 'entry dropped');
      assert.deepEqual(got.labels, c.want.labels);
      assert.equal(got.line, c.want.line ?? c.line);
    });
  }
});

describe('categories', () => {
  test('stream, metadata and parsed', () => {
    const out = run(
      [logfmt(), labelFormat({ label: 'x', kind: 'template', value: 'v' })],
      'level=info trace=1',
      { app: 'a' },
      { trace: 't' },
    );
    // a parsed field named like structured metadata takes _extracted (grafana/loki#19991)
    assert.deepEqual(out, {
      line: 'level=info trace=1',
      stream: { app: 'a' },
      metadata: { trace: 't' },
      parsed: { level: 'info', trace_extracted: '1', x: 'v' },
    });
  });
  test('inputs are not mutated', () => {
    const stream = { app: 'a', drop: 'me' };
    const metadata = { m: '1' };
    run([{ type: 'drop', labels: [{ name: 'drop' }, { name: 'm' }] }], 'x', stream, metadata);
    assert.deepEqual(stream, { app: 'a', drop: 'me' });
    assert.deepEqual(metadata, { m: '1' });
  });
  test('linesOnly', () => {
    assert.equal(compileLogPipeline([lf('|=', 'a'), { type: 'decolorize' }]).linesOnly, true);
    assert.equal(compileLogPipeline([lf('|=', 'a'), json()]).linesOnly, false);
  });
});

describe('compile errors', () => {
  for (const [name, stage] of [
    ['bad regex', lf('|~', '(')],
    ['regexp without names', { type: 'regexp', regex: '(a)' }],
    ['pattern consecutive captures', { type: 'pattern', pattern: '<a><b>' }],
    ['pattern without captures', { type: 'pattern', pattern: 'abc' }],
    ['bad template', lineFormat('{{ .a ')],
    ['unknown function', lineFormat('{{ nope .a }}')],
    ['bad ip', lf('|=', 'not-an-ip', [], true)],
    [
      'label_format twice',
      labelFormat({ label: 'a', kind: 'rename', value: 'b' }, { label: 'a', kind: 'rename', value: 'c' }),
    ],
    ['bad json path', json([{ label: 'a', path: 'a..b' }])],
  ] as [string, PipelineStage][]) {
    test(name, () => assert.throws(() => compileLogPipeline([stage]), LogPipelineCompileError));
  }
});

describe('edge cases: process never throws', () => {
  const all: PipelineStage[] = [
    { type: 'decolorize' },
    json(),
    logfmt({ strict: true }),
    { type: 'unpack' },
    { type: 'pattern', pattern: '<a> <b>' },
    { type: 'regexp', regex: '(?P<r>.)' },
    json([{ label: 'p', path: 'a[0].b' }]),
    lineFormat('{{ .a }}{{ __line__ | trunc 10 }}'),
    labelFormat({ label: 'q', kind: 'template', value: '{{ .b | default "x" }}' }),
  ];
  const inputs = [
    '',
    ' ',
    '\uFFFD\uD800 broken',
    '{',
    '{"a":',
    '{"a":[1,2,{"b":}]}',
    '"just a string"',
    'x'.repeat(1_000_000),
    `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
    `${'['.repeat(100000)}`,
    'a="unterminated',
    '\u001b[',
  ];
  for (const [i, line] of inputs.entries()) {
    test(`input ${i}`, () => {
      for (const s of all) assert.doesNotThrow(() => run([s], line));
      assert.doesNotThrow(() => run(all, line));
    });
  }
  test('deeply nested JSON is flattened', () => {
    const line = `${'{"a":'.repeat(50)}"v"${'}'.repeat(50)}`;
    const out = run([json()], line);
    assert.equal(out?.parsed[Array(50).fill('a').join('_')], 'v');
  });
  test('the replacement rune becomes a space (Loki removeInvalidUtf); an unpaired \\u escape empties', () => {
    assert.deepEqual(run([json()], '{"a":"x\uFFFDy","b":"\\ud800"}')?.parsed, { a: 'x y', b: '' });
  });
  test('huge line through json', () => {
    const big = 'y'.repeat(2_000_000);
    assert.equal(run([json()], `{"big":"${big}"}`)?.parsed.big, big);
  });
});

describe('more Loki behaviours', () => {
  test('regexp and pattern captures take _extracted', () => {
    assert.deepEqual(run([{ type: 'regexp', regex: '(?P<app>\\w+)' }], 'web', { app: 'a' })?.parsed, {
      app_extracted: 'web',
    });
    assert.deepEqual(run([{ type: 'pattern', pattern: '<app> <_>' }], 'web x', { app: 'a' })?.parsed, {
      app_extracted: 'web',
    });
  });
  test('a parsed label that clashes with metadata takes _extracted; the metadata stays', () => {
    const out = run([logfmt()], 'trace=p', {}, { trace: 'm' });
    assert.deepEqual(out?.metadata, { trace: 'm' });
    assert.deepEqual(out?.parsed, { trace_extracted: 'p' });
  });
  test('or does not evaluate the right side when the left holds', () => {
    const out = run(
      [logfmt(), filter({ kind: 'or', left: str('a', '=', '1'), right: num('b', '>', 0) })],
      'a=1 b=x',
    );
    assert.equal(out?.parsed.__error__, undefined);
  });
  test('and evaluates both sides (the error of the right side is kept)', () => {
    const out = run(
      [logfmt(), filter({ kind: 'and', left: str('a', '=', '1'), right: num('b', '>', 0) })],
      'a=1 b=x',
    );
    assert.equal(out?.parsed.__error__, 'LabelFilterErr');
  });
  test('a label filter does not overwrite an earlier error', () => {
    const out = run([json(), logfmt(), filter(num('x', '>', 1))], 'x=abc');
    assert.equal(out?.parsed.__error__, 'JSONParserErr');
  });
  test('label_format template sees labels as of the stage start', () => {
    const out = run(
      [
        logfmt(),
        labelFormat(
          { label: 'a', kind: 'template', value: 'new' },
          { label: 'b', kind: 'template', value: '{{ .a }}' },
        ),
      ],
      'a=old',
    );
    assert.deepEqual(out?.parsed, { a: 'new', b: 'old' });
  });
  test('line_format then json parses the new line', () => {
    const out = run([logfmt(), lineFormat('{"x":"{{ .v }}"}'), json()], 'v=1');
    assert.deepEqual(out?.parsed, { v: '1', x: '1' });
  });
  test('empty line through every parser', () => {
    for (const s of [json(), logfmt(), { type: 'unpack' } as const, json([{ label: 'a', path: 'a' }])]) {
      const out = run([s], '');
      assert.equal(out?.line, '');
    }
    assert.equal(run([json()], '')?.parsed.__error__, 'JSONParserErr');
  });
  test('logfmt unterminated quote with --strict', () => {
    const out = run([logfmt({ strict: true })], 'a=1 b="x');
    assert.equal(out?.parsed.__error__, 'LogfmtParserErr');
    assert.equal(out?.parsed.__error_details__, 'logfmt syntax error at pos 9 : unterminated quoted value');
  });
  test('the compiled pipeline is reusable across entries', () => {
    const p = compileLogPipeline([json()]);
    const a = p.process({ timestamp: 1n, line: '{"a":"1"}', stream: {}, metadata: {} });
    const b = p.process({ timestamp: 2n, line: '{"b":"2"}', stream: {}, metadata: {} });
    assert.deepEqual(a?.parsed, { a: '1' });
    assert.deepEqual(b?.parsed, { b: '2' });
  });
});

describe('label precedence (Loki v3 LabelsBuilder and parser hints)', () => {
  test('the first parser wins, and the first of a key repeated in a line', () => {
    const out = run([logfmt(), json()], 'level=info');
    assert.equal(out?.parsed.level, 'info');
    const out2 = run(
      [json(), { type: 'regexp', regex: '"level":"(?P<level>\\w+)"' }],
      '{"level":"a","level":"b"}',
    );
    assert.equal(out2?.parsed.level, 'a');
  });
  test('label_format overwrites a parsed label', () => {
    const out = run(
      [logfmt(), labelFormat({ label: 'level', kind: 'template', value: '{{ .level | upper }}' })],
      'level=info',
    );
    assert.equal(out?.parsed.level, 'INFO');
  });
  test('metadata whose name is a stream label takes _extracted', () => {
    const out = run([], 'x', { app: 'a' }, { app: 'm', trace: 't' });
    assert.deepEqual(out?.stream, { app: 'a' });
    assert.deepEqual(out?.metadata, { app_extracted: 'm', trace: 't' });
  });
  test('a rename onto a name held by a parsed label leaves the parsed value', () => {
    const out = run([logfmt(), labelFormat({ label: 'level', kind: 'rename', value: 'app' })], 'level=info', {
      app: 'a',
    });
    assert.deepEqual(out?.parsed, { level: 'info' });
    assert.deepEqual(out?.stream, {});
  });
});
