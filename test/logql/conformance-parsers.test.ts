/**
 * LogQL parsers and label categories against Loki v3's own expectations. The first part transcribes
 * the cases of grafana/loki pkg/logql/log/parser_test.go (each cites its test function and case
 * name): inputs and expected labels as data, the labels compared as Loki compares them
 * (b.LabelsResult().Labels(): every category, the error labels included). Structured metadata in
 * those tests is set with b.Set(StructuredMetadataLabel, ...) on an empty stream, as `metadata` here.
 * Cases about parser hints (metric queries) are left out: kjournal does not use hints. The second
 * part is kjournal's own cases around the same rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PipelineStage } from '../../src/logql/ast.js';
import { compileLogPipeline, LogPipelineCompileError } from '../../src/logql/stages/index.js';
import { entryLabels } from '../../src/logql/stages/state.js';
import type { Labels } from '../../src/model/record.js';
import {
  filter,
  flat,
  json,
  labelFormat,
  lineFormat as lineFormatStage,
  logfmt,
  run,
  str,
} from './stages/helpers.js';

interface Case {
  /** The Loki test it comes from: `Function › case`. */
  readonly from: string;
  readonly stages: PipelineStage[];
  readonly line: string;
  readonly stream?: Labels;
  readonly metadata?: Labels;
  /** All labels, error labels included; undefined when the entry is dropped. */
  readonly want: Labels | undefined;
  readonly wantLine?: string;
}

/** Cases of one Loki test function: `from` gets the function's name in front. */
function from(fn: string, cases: Case[]): Case[] {
  return cases.map((c) => ({ ...c, from: `${fn} › ${c.from}` }));
}

function check(c: Case): void {
  const got = flat(c.stages, c.line, c.stream ?? {}, c.metadata ?? {});
  if (c.want === undefined) {
    assert.equal(got, undefined);
    return;
  }
  assert.ok(got, 'entry dropped');
  assert.deepEqual(got.labels, c.want);
  assert.equal(got.line, c.wantLine ?? c.line);
}

const regexp = (regex: string): PipelineStage => ({ type: 'regexp', regex });
const pattern = (p: string): PipelineStage => ({ type: 'pattern', pattern: p });
const unpack: PipelineStage = { type: 'unpack' };
const jsonx = (...ps: [string, string][]): PipelineStage =>
  json(ps.map(([label, path]) => ({ label, path })));
const logfmtx = (ps: [string, string][], strict = false): PipelineStage =>
  logfmt({ strict, params: ps.map(([label, key]) => ({ label, key })) });

const OBJECT_ERR = "Value looks like object, but can't find closing '}' symbol";

// ---------------------------------------------------------------------------------------------
// Test_jsonParser_Parse

const jsonCases: Case[] = [
  {
    from: 'Test_jsonParser_Parse › multi depth',
    stages: [json()],
    line: '{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}',
    want: { app: 'foo', namespace: 'prod', pod_uuid: 'foo', pod_deployment_ref: 'foobar' },
  },
  {
    from: 'Test_jsonParser_Parse › multi depth with duplicates',
    stages: [json()],
    line: '{"app":"bar","namespace":"prod","pod":{"uuid":"bar","deployment":{"ref":"foobar"}}}',
    stream: { app: 'foo', pod_uuid: 'foo' },
    want: {
      app: 'foo',
      app_extracted: 'bar',
      namespace: 'prod',
      pod_uuid: 'foo',
      pod_uuid_extracted: 'bar',
      pod_deployment_ref: 'foobar',
    },
  },
  {
    from: 'Test_jsonParser_Parse › numeric',
    stages: [json()],
    line: '{"counter":1, "price": {"_net_":5.56909}}',
    want: { counter: '1', price__net_: '5.56909' },
  },
  {
    from: 'Test_jsonParser_Parse › whitespace key value',
    stages: [json()],
    line: '{" ": {"foo":"bar"}}',
    want: { foo: 'bar' },
  },
  {
    // Surprising but Loki's: a key that sanitizes to nothing gives a label named "".
    from: 'Test_jsonParser_Parse › whitespace key and whitespace subkey values',
    stages: [json()],
    line: '{" ": {" ":"bar"}}',
    want: { '': 'bar' },
  },
  {
    from: 'Test_jsonParser_Parse › whitespace key and empty subkey values',
    stages: [json()],
    line: '{" ": {"":"bar"}}',
    want: { '': 'bar' },
  },
  {
    from: 'Test_jsonParser_Parse › empty key and empty subkey values',
    stages: [json()],
    line: '{"": {"":"bar"}}',
    want: { '': 'bar' },
  },
  {
    from: 'Test_jsonParser_Parse › escaped',
    stages: [json()],
    line: String.raw`{"counter":1,"foo":"foo\\\"bar", "price": {"_net_":5.56909}}`,
    want: { counter: '1', price__net_: '5.56909', foo: String.raw`foo\"bar` },
  },
  {
    from: 'Test_jsonParser_Parse › utf8 error rune',
    stages: [json()],
    line: '{"counter":1,"foo":"\uFFFD", "price": {"_net_":5.56909}}',
    want: { counter: '1', price__net_: '5.56909', foo: ' ' },
  },
  {
    from: 'Test_jsonParser_Parse › skip arrays',
    stages: [json()],
    line: '{"counter":1, "price": {"net_":["10","20"]}}',
    want: { counter: '1' },
  },
  {
    from: 'Test_jsonParser_Parse › bad key replaced',
    stages: [json()],
    line: '{"cou-nter":1}',
    want: { cou_nter: '1' },
  },
  {
    from: 'Test_jsonParser_Parse › nested bad key replaced',
    stages: [json()],
    line: '{"foo":{"cou-nter":1}}"',
    want: { foo_cou_nter: '1' },
  },
  {
    from: 'Test_jsonParser_Parse › errors',
    stages: [json()],
    line: '{n}',
    want: { __error__: 'JSONParserErr', __error_details__: OBJECT_ERR },
  },
  {
    from: 'Test_jsonParser_Parse › duplicate extraction',
    stages: [json()],
    line: '{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}},"next":{"err":false}}',
    stream: { app: 'bar' },
    want: {
      app: 'bar',
      app_extracted: 'foo',
      namespace: 'prod',
      pod_uuid: 'foo',
      next_err: 'false',
      pod_deployment_ref: 'foobar',
    },
  },
  {
    from: 'Test_jsonParser_Parse › duplicate conflict with structured metadata',
    stages: [json()],
    line: '{"app":"foo","namespace":"prod","pod":"pod_parsed"}',
    metadata: { pod: 'pod_sm' },
    want: { app: 'foo', namespace: 'prod', pod: 'pod_sm', pod_extracted: 'pod_parsed' },
  },
];

// ---------------------------------------------------------------------------------------------
// TestJSONExpressionParser

const testLine =
  '{"app":"foo","field with space":"value","field with ÜFT8👌":"value","null_field":null,"bool_field":false,"namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar", "params": [1,2,3,"string_value"]}}}';

const jsonExprCases = from('TestJSONExpressionParser', [
  { from: 'single field', stages: [jsonx(['app', 'app'])], line: testLine, want: { app: 'foo' } },
  {
    from: 'alternate syntax',
    stages: [jsonx(['test', '["field with space"]'])],
    line: testLine,
    want: { test: 'value' },
  },
  {
    from: 'multiple fields',
    stages: [jsonx(['app', 'app'], ['namespace', 'namespace'])],
    line: testLine,
    want: { app: 'foo', namespace: 'prod' },
  },
  {
    from: 'utf8',
    stages: [jsonx(['utf8', '["field with ÜFT8👌"]'])],
    line: testLine,
    want: { utf8: 'value' },
  },
  { from: 'nested field', stages: [jsonx(['uuid', 'pod.uuid'])], line: testLine, want: { uuid: 'foo' } },
  {
    from: 'nested field alternate syntax',
    stages: [jsonx(['uuid', 'pod["uuid"]'])],
    line: testLine,
    want: { uuid: 'foo' },
  },
  {
    from: 'nested field alternate syntax 2',
    stages: [jsonx(['uuid', '["pod"]["uuid"]'])],
    line: testLine,
    want: { uuid: 'foo' },
  },
  {
    from: 'nested field alternate syntax 3',
    stages: [jsonx(['uuid', '["pod"].uuid'])],
    line: testLine,
    want: { uuid: 'foo' },
  },
  {
    from: 'array element',
    stages: [jsonx(['param', 'pod.deployment.params[0]'])],
    line: testLine,
    want: { param: '1' },
  },
  {
    from: 'object element not present',
    stages: [jsonx(['undefined', 'pod[""]'])],
    line: testLine,
    want: { undefined: '' },
  },
  {
    from: 'accessing invalid array index',
    stages: [jsonx(['param', 'pod.deployment.params[""]'])],
    line: testLine,
    want: { param: '' },
  },
  {
    from: 'array string element',
    stages: [jsonx(['param', 'pod.deployment.params[3]'])],
    line: testLine,
    want: { param: 'string_value' },
  },
  {
    from: 'full array',
    stages: [jsonx(['params', 'pod.deployment.params'])],
    line: testLine,
    want: { params: '[1,2,3,"string_value"]' },
  },
  {
    from: 'full object',
    stages: [jsonx(['deployment', 'pod.deployment'])],
    line: testLine,
    want: { deployment: '{"ref":"foobar", "params": [1,2,3,"string_value"]}' },
  },
  {
    from: 'expression matching nothing',
    stages: [jsonx(['nope', 'pod.nope'])],
    line: testLine,
    want: { nope: '' },
  },
  { from: 'null field', stages: [jsonx(['nf', 'null_field'])], line: testLine, want: { nf: '' } },
  { from: 'boolean field', stages: [jsonx(['bool', 'bool_field'])], line: testLine, want: { bool: 'false' } },
  {
    from: 'label override',
    stages: [jsonx(['uuid', 'pod.uuid'])],
    line: testLine,
    stream: { uuid: 'bar' },
    want: { uuid: 'bar', uuid_extracted: 'foo' },
  },
  {
    from: 'non-matching expression',
    stages: [jsonx(['request_size', 'request.size.invalid'])],
    line: testLine,
    stream: { uuid: 'bar' },
    want: { uuid: 'bar', request_size: '' },
  },
  { from: 'empty line', stages: [jsonx(['uuid', 'pod.uuid'])], line: '{}', want: { uuid: '' } },
  {
    from: 'existing labels are not affected',
    stages: [jsonx(['uuid', 'will.not.work'])],
    line: testLine,
    stream: { foo: 'bar' },
    want: { foo: 'bar', uuid: '' },
  },
  {
    from: 'invalid JSON line',
    stages: [jsonx(['uuid', 'will.not.work'])],
    line: 'invalid json',
    stream: { foo: 'bar' },
    want: { foo: 'bar', __error__: 'JSONParserErr' },
  },
  {
    from: 'empty line (no line)',
    stages: [jsonx(['uuid', 'will.not.work'])],
    line: '',
    stream: { foo: 'bar' },
    want: { foo: 'bar' },
  },
  {
    from: 'nested escaped object',
    stages: [jsonx(['app', 'app'])],
    line: String.raw`{"app":"{ \"key\": \"value\", \"key2\":\"value2\"}"}`,
    stream: { foo: 'bar' },
    want: { foo: 'bar', app: '{ "key": "value", "key2":"value2"}' },
  },
  {
    // The line lacks its last brace: Loki checks how a line starts, not that it is complete.
    from: 'nested object with escaped value',
    stages: [jsonx(['app', 'app'])],
    line: String.raw`{"app":{"name":"great \"loki\""}`,
    stream: { foo: 'bar' },
    want: { foo: 'bar', app: String.raw`{"name":"great \"loki\""}` },
  },
  {
    from: 'field with escaped value inside the json string',
    stages: [jsonx(['app', 'app'])],
    line: String.raw`{"app":"{\"name\":\"great \\\"loki\\\"\"}"}`,
    stream: { foo: 'bar' },
    want: { foo: 'bar', app: String.raw`{"name":"great \"loki\""}` },
  },
  {
    from: 'duplicate field name takes first value',
    stages: [jsonx(['app', 'app'])],
    line: '{"app":"foo","app":"duplicate"}',
    stream: { foo: 'bar' },
    want: { foo: 'bar', app: 'foo' },
  },
  {
    from: 'duplicate conflict with structured metadata',
    stages: [jsonx(['app', 'app'])],
    line: testLine,
    metadata: { app: 'app_sm' },
    want: { app: 'app_sm', app_extracted: 'foo' },
  },
]);

// TestJSONExpressionParserFailures: `cannot parse expression [expr]: syntax error: <error>`
const jsonExprFailures: [string, string][] = [
  ['field with space', 'unexpected FIELD'],
  ['"pod"]', 'unexpected STRING, expecting LSB or FIELD'],
  ['["pod"', 'unexpected $end, expecting RSB'],
  ['["pod""uuid"]', 'unexpected STRING, expecting RSB'],
  ['pod..uuid', 'unexpected DOT, expecting FIELD'],
];

// ---------------------------------------------------------------------------------------------
// Test_regexpParser_Parse

const statusRe = 'status=(?P<status>\\w+),latency=(?P<latency>\\w+)(ms|ns)';
const regexpCases = from('Test_regexpParser_Parse', [
  {
    from: 'no matches',
    stages: [regexp('(?P<foo>foo|bar)buzz')],
    line: 'blah',
    stream: { app: 'foo' },
    want: { app: 'foo' },
  },
  {
    from: 'double matches',
    stages: [regexp('(?P<foo>.*)buzz')],
    line: 'matchebuzz barbuzz',
    stream: { app: 'bar' },
    want: { app: 'bar', foo: 'matchebuzz bar' },
  },
  {
    from: 'duplicate labels',
    stages: [regexp('(?P<bar>bar)buzz')],
    line: 'barbuzz',
    stream: { bar: 'foo' },
    want: { bar: 'foo', bar_extracted: 'bar' },
  },
  {
    from: 'multiple labels extracted',
    stages: [regexp(statusRe)],
    line: 'status=200,latency=500ms',
    stream: { app: 'foo' },
    want: { app: 'foo', status: '200', latency: '500' },
  },
  {
    from: 'duplicate conflict with structured metadata',
    stages: [regexp(statusRe)],
    line: 'status=200,latency=500ms',
    metadata: { status: '400' },
    want: { status: '400', status_extracted: '200', latency: '500' },
  },
]);

// ---------------------------------------------------------------------------------------------
// TestLogfmtParser_parse: `want` without --strict, `wantStrict` with it (when it differs)

interface LogfmtCase extends Omit<Case, 'stages' | 'want'> {
  readonly want: Labels;
  readonly wantStrict?: Labels;
}

const logfmtCases: LogfmtCase[] = [
  {
    from: 'not logfmt',
    line: 'foobar====wqe=sdad1r',
    stream: { foo: 'bar' },
    want: { foo: 'bar' },
    wantStrict: {
      foo: 'bar',
      __error__: 'LogfmtParserErr',
      __error_details__: "logfmt syntax error at pos 8 : unexpected '='",
    },
  },
  { from: 'utf8 error rune', line: 'buzz=foo bar=\uFFFDf', want: { bar: ' f', buzz: 'foo' } },
  {
    from: 'key alone logfmt',
    line: 'buzz bar=foo',
    stream: { foo: 'bar' },
    want: { foo: 'bar', bar: 'foo' },
  },
  {
    from: 'quoted logfmt',
    line: 'foobar="foo bar"',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foobar: 'foo bar' },
  },
  {
    from: 'escaped control chars in logfmt',
    line: String.raw`foobar="foo\nbar\tbaz"`,
    stream: { a: 'b' },
    want: { a: 'b', foobar: 'foo\nbar\tbaz' },
  },
  {
    from: 'literal control chars in logfmt',
    line: 'foobar="foo\nbar\tbaz"',
    stream: { a: 'b' },
    want: { a: 'b', foobar: 'foo\nbar\tbaz' },
  },
  {
    from: 'escaped slash logfmt',
    line: String.raw`foobar="foo ba\\r baz"`,
    stream: { a: 'b' },
    want: { a: 'b', foobar: String.raw`foo ba\r baz` },
  },
  {
    from: 'literal newline and escaped slash logfmt',
    line: 'foobar="foo bar\nb\\\\az"',
    stream: { a: 'b' },
    want: { a: 'b', foobar: 'foo bar\nb\\az' },
  },
  {
    from: 'double property logfmt',
    line: 'foobar="foo bar" latency=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foobar: 'foo bar', latency: '10ms' },
  },
  {
    from: 'duplicate from line property',
    line: 'foobar="foo bar" foobar=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foobar: 'foo bar' },
  },
  {
    from: 'duplicate property',
    line: 'foo="foo bar" foobar=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar', foobar: '10ms' },
  },
  {
    from: 'no duplicate property',
    line: 'foo="foo bar" foobar=10ms',
    want: { foo: 'foo bar', foobar: '10ms' },
  },
  {
    from: 'invalid key names',
    line: 'foo="foo bar" foo.bar=10ms test-dash=foo',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar', foo_bar: '10ms', test_dash: 'foo' },
  },
  { from: 'nil', line: '', stream: { foo: 'bar' }, want: { foo: 'bar' } },
  {
    from: 'empty key',
    line: 'foo="foo bar" =notkey bar=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar', bar: '10ms' },
    wantStrict: {
      foo: 'bar',
      foo_extracted: 'foo bar',
      __error__: 'LogfmtParserErr',
      __error_details__: "logfmt syntax error at pos 15 : unexpected '='",
    },
  },
  {
    from: 'error rune in key',
    line: 'foo="foo bar" b\uFFFDr=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar' },
    wantStrict: {
      foo: 'bar',
      foo_extracted: 'foo bar',
      __error__: 'LogfmtParserErr',
      __error_details__: 'logfmt syntax error at pos 20 : invalid key',
    },
  },
  {
    from: 'double quote in key',
    line: 'foo="foo bar" bu"zz=10ms',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar' },
    wantStrict: {
      foo: 'bar',
      foo_extracted: 'foo bar',
      __error__: 'LogfmtParserErr',
      __error_details__: `logfmt syntax error at pos 17 : unexpected '"'`,
    },
  },
  {
    from: '= in value',
    line: 'bar=bu=zz foo="foo bar"',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'foo bar' },
    wantStrict: {
      foo: 'bar',
      __error__: 'LogfmtParserErr',
      __error_details__: "logfmt syntax error at pos 7 : unexpected '='",
    },
  },
  {
    from: 'duplicate conflict with structured metadata',
    line: 'app=foo level=error',
    metadata: { app: 'foo_sm' },
    want: { app: 'foo_sm', app_extracted: 'foo', level: 'error' },
  },
];

// TestLogfmtParser_keepEmpty: the same answer with and without --strict
const keepEmptyCases: (Omit<LogfmtCase, 'wantStrict'> & { keepEmpty: boolean })[] = [
  {
    from: 'without keep empty',
    line: 'foo bar=buzz',
    keepEmpty: false,
    stream: { foo: 'bar' },
    want: { foo: 'bar', bar: 'buzz' },
  },
  {
    from: 'with keep empty',
    line: 'foo bar=buzz',
    keepEmpty: true,
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: '', bar: 'buzz' },
  },
  {
    from: 'utf8 error rune without keep empty',
    line: 'foo=b\uFFFDr bar=buzz',
    keepEmpty: false,
    stream: { foo: 'bar' },
    want: { foo: 'bar', bar: 'buzz', foo_extracted: 'b r' },
  },
  {
    from: 'utf8 error rune with keep empty',
    line: 'foo=b\uFFFDr bar=buzz',
    keepEmpty: true,
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_extracted: 'b r', bar: 'buzz' },
  },
];

// ---------------------------------------------------------------------------------------------
// TestLogfmtExpressionParser

const logfmtLine = 'app=foo level=error spaces="value with ÜFT8👌" ts=2021-02-12T19:18:10.037940878Z';
const logfmtExprCases = from('TestLogfmtExpressionParser', [
  { from: 'single field', stages: [logfmtx([['app', 'app']])], line: logfmtLine, want: { app: 'foo' } },
  {
    from: 'multiple fields',
    stages: [
      logfmtx([
        ['app', 'app'],
        ['level', 'level'],
        ['ts', 'ts'],
      ]),
    ],
    line: logfmtLine,
    want: { app: 'foo', level: 'error', ts: '2021-02-12T19:18:10.037940878Z' },
  },
  {
    from: 'label renaming',
    stages: [logfmtx([['test', 'level']])],
    line: logfmtLine,
    want: { test: 'error' },
  },
  {
    from: 'multiple fields with label renaming',
    stages: [
      logfmtx([
        ['app', 'app'],
        ['lvl', 'level'],
        ['timestamp', 'ts'],
      ]),
    ],
    line: logfmtLine,
    want: { app: 'foo', lvl: 'error', timestamp: '2021-02-12T19:18:10.037940878Z' },
  },
  {
    from: 'value with spaces and ÜFT8👌',
    stages: [logfmtx([['spaces', 'spaces']])],
    line: logfmtLine,
    want: { spaces: 'value with ÜFT8👌' },
  },
  {
    from: 'expression matching nothing',
    stages: [logfmtx([['nope', 'nope']])],
    line: logfmtLine,
    want: { nope: '' },
  },
  {
    from: 'double property logfmt',
    stages: [logfmtx([['app', 'app']])],
    line: logfmtLine,
    stream: { ap: 'bar' },
    want: { ap: 'bar', app: 'foo' },
  },
  {
    from: 'label override',
    stages: [logfmtx([['app', 'app']])],
    line: logfmtLine,
    stream: { app: 'bar' },
    want: { app: 'bar', app_extracted: 'foo' },
  },
  {
    from: 'label override 2',
    stages: [logfmtx([['lvl', 'level']])],
    line: logfmtLine,
    stream: { level: 'debug' },
    want: { level: 'debug', lvl: 'error' },
  },
  {
    from: 'structured metadata conflict',
    stages: [logfmtx([['app', 'app']])],
    line: logfmtLine,
    metadata: { app: 'foo_sm' },
    want: { app: 'foo_sm', app_extracted: 'foo' },
  },
]);

// ---------------------------------------------------------------------------------------------
// Test_unpackParser_Parse

const packed = '{"bar":1,"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}}';
const notObject = '"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}';
const unpackErr = {
  __error__: 'JSONParserErr',
  __error_details__: 'expecting json object(6), but it is not',
};
const unpackCases = from('Test_unpackParser_Parse', [
  {
    from: 'should extract only map[string]string',
    stages: [unpack],
    line: packed,
    stream: { cluster: 'us-central1' },
    want: { app: 'foo', namespace: 'prod', cluster: 'us-central1' },
    wantLine: 'some message',
  },
  { from: 'wrong json', stages: [unpack], line: notObject, want: unpackErr },
  {
    from: 'empty line',
    stages: [unpack],
    line: '',
    stream: { cluster: 'us-central1' },
    want: { cluster: 'us-central1' },
  },
  {
    from: 'not a map',
    stages: [unpack],
    line: '["foo","bar"]',
    stream: { cluster: 'us-central1' },
    want: { ...unpackErr, cluster: 'us-central1' },
  },
  {
    from: 'should rename',
    stages: [unpack],
    line: packed,
    stream: { cluster: 'us-central1', app: 'bar' },
    want: { app: 'bar', app_extracted: 'foo', namespace: 'prod', cluster: 'us-central1' },
    wantLine: 'some message',
  },
  {
    from: 'should not change log and labels if no packed entry',
    stages: [unpack],
    line: '{"bar":1,"app":"foo","namespace":"prod","pod":{"uid":"1"}}',
    stream: { app: 'bar', cluster: 'us-central1' },
    want: { app: 'bar', cluster: 'us-central1' },
  },
  {
    from: 'non json with escaped quotes',
    stages: [unpack],
    line: String.raw`{"_entry":"I0303 17:49:45.976518    1526 kubelet_getters.go:178] \"Pod status updated\" pod=\"openshift-etcd/etcd-ip-10-0-150-50.us-east-2.compute.internal\" status=Running"}`,
    stream: { app: 'bar', cluster: 'us-central1' },
    want: { app: 'bar', cluster: 'us-central1' },
    wantLine:
      'I0303 17:49:45.976518    1526 kubelet_getters.go:178] "Pod status updated" pod="openshift-etcd/etcd-ip-10-0-150-50.us-east-2.compute.internal" status=Running',
  },
  {
    from: 'invalid key names',
    stages: [unpack],
    line: '{"foo.bar":"10ms","test-dash":"foo","_entry":"some message"}',
    stream: { foo: 'bar' },
    want: { foo: 'bar', foo_bar: '10ms', test_dash: 'foo' },
    wantLine: 'some message',
  },
  {
    from: 'duplicate conflict with structured metadata',
    stages: [unpack],
    line: '{"app":"foo","namespace":"prod","_entry":"some message"}',
    metadata: { app: 'foo_sm' },
    want: { app: 'foo_sm', app_extracted: 'foo', namespace: 'prod' },
    wantLine: 'some message',
  },
]);

// ---------------------------------------------------------------------------------------------
// Test_PatternParser

const apache =
  '127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
const apachePattern = '<ip> <userid> <user> [<_>] "<method> <path> <_>" <status> <size>';
const apacheLabels = {
  ip: '127.0.0.1',
  userid: 'user-identifier',
  user: 'frank',
  method: 'GET',
  path: '/apache_pb.gif',
  status: '200',
  size: '2326',
};
const patternCases = from('Test_PatternParser', [
  {
    from: apachePattern,
    stages: [pattern(apachePattern)],
    line: apache,
    stream: { foo: 'bar' },
    want: { foo: 'bar', ...apacheLabels },
  },
  {
    from: '<_> msg="<method> <path> (<status>) <duration>"',
    stages: [pattern('<_> msg="<method> <path> (<status>) <duration>"')],
    line: 'level=debug ts=2021-05-19T07:54:26.864644382Z caller=logging.go:66 traceID=7fbb92fd0eb9c65d msg="POST /loki/api/v1/push (204) 1.238734ms"',
    stream: { method: 'bar' },
    want: {
      method: 'bar',
      method_extracted: 'POST',
      path: '/loki/api/v1/push',
      status: '204',
      duration: '1.238734ms',
    },
  },
  {
    from: 'foo <f>"',
    stages: [pattern('foo <f>"')],
    line: 'bar',
    stream: { method: 'bar' },
    want: { method: 'bar' },
  },
  {
    from: `${apachePattern} (structured metadata)`,
    stages: [pattern(apachePattern)],
    line: apache,
    metadata: { user: 'not_frank' },
    want: { ...apacheLabels, user: 'not_frank', user_extracted: 'frank' },
  },
]);

// ---------------------------------------------------------------------------------------------
// pipeline_test.go

const drop = (...labels: { name: string; matcher?: { op: '='; value: string } }[]): PipelineStage => ({
  type: 'drop',
  labels,
});
const keep = (...labels: { name: string; matcher?: { op: '='; value: string } }[]): PipelineStage => ({
  type: 'keep',
  labels,
});
const lfLine = 'level=info ts=2020-10-18T18:04:22.147378997Z caller=metrics.go:81 status=200';
const jsonLine = '{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}';
const logfmtErr = `logfmt syntax error at pos 2 : unexpected '"'`;
const threeLines = [
  lfLine,
  'level=debug ts=2020-10-18T18:04:22.147378997Z caller=metrics.go:81 status=200',
  'ts=2020-10-18T18:04:22.147378997Z caller=metrics.go:81 status=200',
];
const lfLabels = (level?: string): Labels => ({
  ...(level ? { level } : {}),
  ts: '2020-10-18T18:04:22.147378997Z',
  caller: 'metrics.go:81',
  status: '200',
});

const pipelineCases: Case[] = [
  {
    from: 'TestNoopPipeline › structured metadata',
    stages: [],
    line: '',
    stream: { foo: 'bar' },
    metadata: { y: '1', z: '2' },
    want: { foo: 'bar', y: '1', z: '2' },
  },
  {
    from: 'TestNoopPipeline › duplicated structured metadata with stream labels',
    stages: [],
    line: '',
    stream: { foo: 'bar' },
    metadata: { y: '1', z: '2', foo: 'baz' },
    want: { foo: 'bar', foo_extracted: 'baz', y: '1', z: '2' },
  },
  {
    from: 'TestNoopPipeline › structured metadata with disallowed label names',
    stages: [],
    line: '',
    stream: { foo: 'bar' },
    metadata: { y: '1', z: '2', 'zsomething-bad': 'foo' },
    want: { foo: 'bar', y: '1', z: '2', zsomething_bad: 'foo' },
  },
  ...(
    [
      { metadata: { user: 'bob' }, want: { foo: 'bar', user: 'bob' } },
      { metadata: { user: 'bob', foo: 'baz' }, want: { foo: 'bar', foo_extracted: 'baz', user: 'bob' } },
      { metadata: {}, want: undefined },
      { stream: {}, metadata: { user: 'bob' }, want: undefined },
      {
        metadata: { user: 'bob', 'zsomething-bad': 'foo' },
        want: { foo: 'bar', user: 'bob', zsomething_bad: 'foo' },
      },
    ] as { stream?: Labels; metadata: Labels; want: Labels | undefined }[]
  ).map((c, i) => ({
    from: `TestPipelineWithStructuredMetadata › ${i + 1}`,
    stages: [
      filter(str('foo', '=', 'bar')),
      filter(str('user', '=', 'bob')),
      lineFormatStage('lbs {{.foo}} {{.user}}'),
    ],
    line: 'line',
    stream: c.stream ?? { foo: 'bar' },
    metadata: c.metadata,
    want: c.want,
    wantLine: 'lbs bar bob',
  })),
  ...(
    [
      { line: lfLine, want: lfLabels('info') },
      {
        line: jsonLine,
        want: { app: 'foo', namespace: 'prod', pod_uuid: 'foo', pod_deployment_ref: 'foobar' },
      },
    ] as { line: string; want: Labels }[]
  ).map((c, i) => ({
    from: `TestDropLabelsPipeline › drop __error__ › line ${i + 1}`,
    stages: [logfmt({ strict: true }), json(), drop({ name: '__error__' }, { name: '__error_details__' })],
    line: c.line,
    want: c.want,
  })),
  ...(
    [
      {
        line: lfLine,
        want: {
          level: 'info',
          ts: '2020-10-18T18:04:22.147378997Z',
          caller: 'metrics.go:81',
          __error__: 'JSONParserErr',
          __error_details__: OBJECT_ERR,
        },
      },
      {
        line: jsonLine,
        want: {
          namespace: 'prod',
          pod_uuid: 'foo',
          pod_deployment_ref: 'foobar',
          __error_details__: logfmtErr,
        },
      },
    ] as { line: string; want: Labels }[]
  ).map((c, i) => ({
    from: `TestDropLabelsPipeline › drop __error__ with matching value › line ${i + 1}`,
    stages: [
      logfmt({ strict: true }),
      json(),
      drop(
        { name: '__error__', matcher: { op: '=', value: 'LogfmtParserErr' } },
        { name: 'status', matcher: { op: '=', value: '200' } },
        { name: 'app' },
      ),
    ],
    line: c.line,
    want: c.want,
  })),
  ...threeLines.map((line, i) => ({
    from: `TestKeepLabelsPipeline › keep all › line ${i + 1}`,
    stages: [logfmt(), keep()],
    line,
    want: lfLabels(['info', 'debug', undefined][i]),
  })),
  ...threeLines.map((line, i) => ({
    from: `TestKeepLabelsPipeline › keep by name › line ${i + 1}`,
    stages: [logfmt(), keep({ name: 'level' })],
    line,
    want: [{ level: 'info' }, { level: 'debug' }, {}][i] as Labels,
  })),
  ...threeLines.map((line, i) => ({
    from: `TestKeepLabelsPipeline › keep by matcher › line ${i + 1}`,
    stages: [logfmt(), keep({ name: 'level', matcher: { op: '=', value: 'info' } })],
    line,
    want: [{ level: 'info' }, {}, {}][i] as Labels,
  })),
];

describe("Loki's parser_test.go", () => {
  for (const c of [
    ...jsonCases,
    ...jsonExprCases,
    ...regexpCases,
    ...unpackCases,
    ...patternCases,
    ...pipelineCases,
  ]) {
    test(c.from, () => check(c));
  }
  for (const c of logfmtCases) {
    test(`TestLogfmtParser_parse › ${c.from}`, () => check({ ...c, stages: [logfmt()] }));
    test(`TestLogfmtParser_parse › strict › ${c.from}`, () =>
      check({ ...c, stages: [logfmt({ strict: true })], want: c.wantStrict ?? c.want }));
  }
  for (const c of keepEmptyCases) {
    for (const strict of [false, true]) {
      test(`TestLogfmtParser_keepEmpty › ${strict ? 'strict' : 'not strict'} › ${c.from}`, () =>
        check({ ...c, stages: [logfmt({ strict, keepEmpty: c.keepEmpty })] }));
    }
  }
  for (const c of logfmtExprCases) test(c.from, () => check(c));
  for (const [expr, error] of jsonExprFailures) {
    test(`TestJSONExpressionParserFailures › ${expr}`, () => {
      assert.throws(
        () => compileLogPipeline([jsonx(['app', expr])]),
        (err: Error) => {
          assert.ok(err instanceof LogPipelineCompileError);
          assert.equal(err.message, `cannot parse expression [${expr}]: syntax error: ${error}`);
          return true;
        },
      );
    });
  }
  test('TestXExpressionParserFailures › invalid field name', () => {
    assert.throws(
      () => compileLogPipeline([logfmtx([['app', 'field with space']])]),
      (err: Error) => {
        assert.ok(err instanceof LogPipelineCompileError);
        assert.equal(err.message, 'cannot parse expression [field with space]: syntax error: unexpected KEY');
        return true;
      },
    );
  });
  test('TestLogfmtConsistentPrecedence: structured metadata first, then a stream without it', () => {
    const line = 'app=lowkey level=error ts=2021-02-12T19:18:10.037940878Z msg="hello world"';
    const p = compileLogPipeline([logfmt({ strict: true, keepEmpty: true })]);
    for (const order of [0, 1]) {
      const withMeta = () =>
        p.process({ timestamp: 0n, line, stream: { foo: 'bar' }, metadata: { app: 'loki' } });
      const without = () => p.process({ timestamp: 0n, line, stream: { foo: 'baz' }, metadata: {} });
      const [a, b] = order === 0 ? [withMeta(), without()] : [without(), withMeta()].reverse();
      // structured metadata is kept; the parsed value takes _extracted
      assert.equal(a?.metadata.app, 'loki');
      assert.equal(a?.parsed.app_extracted, 'lowkey');
      assert.equal(a?.parsed.app, undefined);
      assert.equal(b?.parsed.app, 'lowkey');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// kjournal's own cases around the same rules

describe('categories: stream, structured metadata, parsed (issue 14 item 3)', () => {
  test('a parsed field named like structured metadata takes _extracted; the metadata stays', () => {
    const out = run([logfmt()], 'trace=p level=info', { app: 'a' }, { trace: 'm' });
    assert.deepEqual(out?.stream, { app: 'a' });
    assert.deepEqual(out?.metadata, { trace: 'm' });
    assert.deepEqual(out?.parsed, { trace_extracted: 'p', level: 'info' });
  });
  test('json: a nested name equal to a metadata name', () => {
    const out = run([json()], '{"a":{"b":"x"},"c":"y"}', {}, { a_b: 'm' });
    assert.deepEqual(out?.metadata, { a_b: 'm' });
    assert.deepEqual(out?.parsed, { a_b_extracted: 'x', c: 'y' });
  });
  test('regexp, pattern, unpack and json expressions do the same', () => {
    const m = { level: 'sm' };
    assert.deepEqual(run([regexp('(?P<level>\\w+)')], 'info', {}, m)?.parsed, { level_extracted: 'info' });
    assert.deepEqual(run([pattern('<level> <_>')], 'info x', {}, m)?.parsed, { level_extracted: 'info' });
    assert.deepEqual(run([unpack], '{"level":"info","_entry":"x"}', {}, m)?.parsed, {
      level_extracted: 'info',
    });
    assert.deepEqual(run([jsonx(['level', 'level'])], '{"level":"info"}', {}, m)?.parsed, {
      level_extracted: 'info',
    });
  });
  test('metadata named like a stream label takes _extracted; then a parsed field of that name too', () => {
    const out = run([logfmt()], 'app=p', { app: 'a' }, { app: 'm' });
    assert.deepEqual(out?.stream, { app: 'a' });
    // the parsed `app` takes _extracted for the stream label, which metadata holds already:
    // the parsed value wins that name, as Loki's Set gives parsed labels precedence
    assert.deepEqual(out?.metadata, {});
    assert.deepEqual(out?.parsed, { app_extracted: 'p' });
  });
  test('metadata dropped by an earlier stage is no clash', () => {
    const out = run([{ type: 'drop', labels: [{ name: 'trace' }] }, logfmt()], 'trace=p', {}, { trace: 'm' });
    assert.deepEqual(out?.metadata, {});
    assert.deepEqual(out?.parsed, { trace: 'p' });
  });
  test('drop, keep and label filters see both names', () => {
    const meta = { trace: 'm' };
    const dropped = run(
      [logfmt(), { type: 'drop', labels: [{ name: 'trace_extracted' }] }],
      'trace=p',
      {},
      meta,
    );
    assert.deepEqual(dropped?.metadata, { trace: 'm' });
    assert.deepEqual(dropped?.parsed, {});
    const kept = run(
      [logfmt(), { type: 'keep', labels: [{ name: 'trace' }] }],
      'trace=p x=1',
      { app: 'a' },
      meta,
    );
    assert.deepEqual(kept, { line: 'trace=p x=1', stream: {}, metadata: { trace: 'm' }, parsed: {} });
    assert.ok(run([logfmt(), filter(str('trace', '=', 'm'))], 'trace=p', {}, meta));
    assert.equal(run([logfmt(), filter(str('trace', '=', 'p'))], 'trace=p', {}, meta), undefined);
    assert.ok(run([logfmt(), filter(str('trace_extracted', '=', 'p'))], 'trace=p', {}, meta));
  });
  test('label_format: a rename keeps the category, a template makes a parsed label', () => {
    const meta = { trace: 'm' };
    const renamed = run([labelFormat({ label: 't', kind: 'rename', value: 'trace' })], 'x', {}, meta);
    assert.deepEqual(renamed?.metadata, { t: 'm' });
    const templated = run([labelFormat({ label: 'trace', kind: 'template', value: 'v' })], 'x', {}, meta);
    assert.deepEqual(templated?.metadata, {});
    assert.deepEqual(templated?.parsed, { trace: 'v' });
  });
  test("structured metadata names normalized as Loki's pipeline does (otlptranslator NormalizeLabel)", () => {
    const out = run(
      [],
      'x',
      { service_name: 's' },
      {
        'service.name': 'a',
        _x: 'b',
        __y: 'c',
        '1a': 'd',
        'ä.b': 'e',
      },
    );
    // service.name normalizes to a stream label's name, so it takes _extracted as well
    assert.deepEqual(out?.metadata, {
      service_name_extracted: 'a',
      key_x: 'b',
      __y: 'c',
      key_1a: 'd',
      ä_b: 'e',
    });
    assert.deepEqual(entryLabels({}, { 'trace-id': 't' }), { trace_id: 't' });
    // a parser then clashes with the normalized name
    assert.deepEqual(run([logfmt()], 'trace_id=p', {}, { 'trace-id': 't' })?.parsed, {
      trace_id_extracted: 'p',
    });
  });
  test('entryLabels: the labels of an entry no stage touched', () => {
    const stream = { app: 'a' };
    assert.equal(entryLabels(stream, {}), stream);
    assert.deepEqual(entryLabels(stream, { app: 'm', t: '1' }), { app: 'a', app_extracted: 'm', t: '1' });
    assert.deepEqual(entryLabels(stream, { __error__: 'E' }), { app: 'a', __error__: 'E' });
    assert.deepEqual(stream, { app: 'a' });
  });
});

describe('a key repeated in one line keeps its first value (issue 14 item 4)', () => {
  test('json', () => {
    assert.deepEqual(run([json()], '{"a":"1","a":"2"}')?.parsed, { a: '1' });
    // a nested field and a top-level key that sanitize to the same name
    assert.deepEqual(run([json()], '{"a_b":"1","a":{"b":"2"}}')?.parsed, { a_b: '1' });
    assert.deepEqual(run([json()], '{"a":{"b":"2"},"a_b":"1"}')?.parsed, { a_b: '2' });
    // keys that sanitize alike
    assert.deepEqual(run([json()], '{"a.b":"1","a-b":"2"}')?.parsed, { a_b: '1' });
  });
  test('logfmt, with and without --keep-empty', () => {
    assert.deepEqual(run([logfmt()], 'a=1 a=2 b=x')?.parsed, { a: '1', b: 'x' });
    // an empty value is not set without --keep-empty, so the later one is the first set
    assert.deepEqual(run([logfmt()], 'a= a=2')?.parsed, { a: '2' });
    assert.deepEqual(run([logfmt({ keepEmpty: true })], 'a= a=2')?.parsed, { a: '' });
    assert.deepEqual(run([logfmt()], 'a.b=1 a-b=2')?.parsed, { a_b: '1' });
  });
  test('logfmt label="key" and json label="path"', () => {
    assert.deepEqual(run([logfmtx([['a', 'a']])], 'a=1 a=2')?.parsed, { a: '1' });
    assert.deepEqual(run([logfmtx([['x', 'a']])], 'b=0 a=1 a=2')?.parsed, { x: '1' });
    assert.deepEqual(run([jsonx(['x', 'a.b'])], '{"a":{"b":1,"b":2}}')?.parsed, { x: '1' });
  });
  test('unpack', () => {
    assert.deepEqual(run([unpack], '{"a":"1","a":"2","_entry":"x"}')?.parsed, { a: '1' });
  });
  test('a later parser does not overwrite an earlier one', () => {
    assert.deepEqual(run([logfmt(), json()], 'a=1')?.parsed.a, '1');
    assert.deepEqual(run([json(), regexp('"a":"(?P<a>\\w+)"')], '{"a":"x","a":"y"}')?.parsed, { a: 'x' });
  });
});

describe('invalid UTF-8 in parsed values (issue 14 item 6)', () => {
  // Loki replaces each U+FFFD with a space (pkg/logql/log/parser.go removeInvalidUtf); a stored line
  // with invalid UTF-8 bytes reads here with U+FFFD in their place.
  const bad = Buffer.from([0x61, 0xff, 0x62]).toString('utf8');
  test('json values, raw or escaped', () => {
    assert.deepEqual(run([json()], `{"a":"${bad}","b":"x\\ufffdy","c":"\\u00e9"}`)?.parsed, {
      a: 'a b',
      b: 'x y',
      c: 'é',
    });
  });
  test('json: a \\u escape that is half a surrogate pair is an invalid escape: the value is empty', () => {
    assert.deepEqual(run([json()], '{"a":"x\\ud800","b":"\\udc00y","c":"\\ud83d\\ude00"}')?.parsed, {
      a: '',
      b: '',
      c: '😀',
    });
  });
  test('logfmt, unquoted and quoted', () => {
    assert.deepEqual(run([logfmt()], `a=${bad} b="${bad} \\t"`)?.parsed, { a: 'a b', b: 'a b \t' });
  });
  test('unpack values; json label="path" strings and arrays, not objects', () => {
    assert.deepEqual(run([unpack], `{"a":"${bad}","_entry":"l"}`)?.parsed, { a: 'a b' });
    const line = `{"s":"${bad}","arr":["${bad}"],"o":{"k":"${bad}"}}`;
    assert.deepEqual(run([jsonx(['s', 's'], ['arr', 'arr'], ['o', 'o'])], line)?.parsed, {
      s: 'a b',
      arr: '["a b"]',
      o: `{"k":"${bad}"}`,
    });
  });
  test('logfmt label="key" empties such a value, as Loki (LogfmtExpressionParser) does', () => {
    assert.deepEqual(run([logfmtx([['a', 'a']])], `a=${bad}`)?.parsed, { a: '' });
  });
});

describe('unpack sanitizes key names (issue 14 item 11)', () => {
  test('characters outside [a-zA-Z0-9_] and a leading digit', () => {
    assert.deepEqual(run([unpack], '{"foo.bar":"1","1st":"2"," sp ":"3","ä":"4","_entry":"x"}')?.parsed, {
      foo_bar: '1',
      _1st: '2',
      sp: '3',
      _: '4',
    });
  });
  test('the raw key is what is compared with the stream labels (a Loki quirk)', () => {
    // {"foo.bar"} is not the stream label foo_bar, so its sanitized name replaces that label
    const out = run([unpack], '{"foo.bar":"p","_entry":"x"}', { foo_bar: 's' });
    assert.deepEqual(out?.stream, {});
    assert.deepEqual(out?.parsed, { foo_bar: 'p' });
    assert.deepEqual(run([unpack], '{"app":"p","_entry":"x"}', { app: 's' })?.parsed, { app_extracted: 'p' });
  });
});

describe('json label="path" on lines Loki accepts (issue 14 item 12)', () => {
  test('a line that starts like JSON but is not complete', () => {
    assert.deepEqual(flat([jsonx(['a', 'a'])], '{"a":"b"')?.labels, { a: 'b' });
    assert.deepEqual(flat([jsonx(['a', 'a.b'])], '{"a":{"b":1} trailing garbage')?.labels, { a: '1' });
    assert.deepEqual(flat([jsonx(['a', 'a'])], '{"a":1} {"a":2}')?.labels, { a: '1' });
  });
  test('a value cut off: the error jsonparser gives, and the label empty', () => {
    assert.deepEqual(flat([jsonx(['a', 'a'], ['c', 'c'])], '{"a":"b", "c":')?.labels, {
      a: 'b',
      c: '',
      __error__: 'JSONParserErr',
      __error_details__: 'Malformed JSON error',
    });
    assert.deepEqual(flat([jsonx(['c', 'c'])], '{"c":"unterminated')?.labels, {
      c: '',
      __error__: 'JSONParserErr',
      __error_details__: `Value is string, but can't find closing '"' symbol`,
    });
  });
  test('only the first character is checked: white space before it is an error without details', () => {
    assert.deepEqual(flat([jsonx(['a', 'a'])], ' {"a":1}')?.labels, { __error__: 'JSONParserErr' });
  });
  test('a key outside any object is malformed JSON', () => {
    assert.deepEqual(flat([jsonx(['a', 'a'])], '"a":1')?.labels, {
      a: '',
      __error__: 'JSONParserErr',
      __error_details__: 'Malformed JSON error',
    });
  });
  test('arrays: an index at the top, an index then a key, an index into an array of strings', () => {
    assert.deepEqual(flat([jsonx(['x', '[1]'])], '["a","b"]')?.labels, { x: 'b' });
    assert.deepEqual(flat([jsonx(['x', 'a[1].b'])], '{"a":[{"b":1},{"b":2}]}')?.labels, { x: '2' });
    assert.deepEqual(flat([jsonx(['x', 'a[2]'])], '{"a":["p","q"]}')?.labels, { x: '' });
  });
  test('a key found in a nested object is not a top-level key', () => {
    assert.deepEqual(flat([jsonx(['x', 'b'])], '{"a":{"b":1},"b":2}')?.labels, { x: '2' });
  });
  test('values: numbers and booleans as text, strings unescaped', () => {
    const line = '{"n":-1.5e3,"t":true,"s":"a\\"b\\n"}';
    assert.deepEqual(flat([jsonx(['n', 'n'], ['t', 't'], ['s', 's'])], line)?.labels, {
      n: '-1.5e3',
      t: 'true',
      s: 'a"b\n',
    });
  });
  test('expression syntax as Loki reads it', () => {
    const refused: [string, string][] = [
      ['a-b', 'unexpected char -'],
      // a character the lexer refuses ends the input; the grammar's error, if any, is the one reported
      ['ÜFT8', 'syntax error: unexpected $end, expecting LSB or FIELD'],
      ['a.Ü', 'syntax error: unexpected $end, expecting FIELD'],
      ['a.', 'syntax error: unexpected $end, expecting FIELD'],
      ['', 'syntax error: unexpected $end, expecting LSB or FIELD'],
      ['[a]', 'syntax error: unexpected FIELD, expecting STRING or INDEX'],
      ['a[1.5]', 'syntax error: unexpected $end, expecting STRING or INDEX'],
      ['a.0', 'syntax error: unexpected $end, expecting FIELD'],
    ];
    for (const [expr, msg] of refused) {
      assert.throws(
        () => compileLogPipeline([jsonx(['x', expr])]),
        { name: 'LogPipelineCompileError', message: `cannot parse expression [${expr}]: ${msg}` },
        expr,
      );
    }
    // a quoted key ends at `"` or `]` and knows no escapes
    assert.deepEqual(flat([jsonx(['x', '["a b"][0]'])], '{"a b":[7]}')?.labels, { x: '7' });
    assert.deepEqual(flat([jsonx(['x', 'a [ 0 ] . b'])], '{"a":[{"b":3}]}')?.labels, { x: '3' });
  });
});

describe('logfmt label="key" expressions (issue 14 item 12)', () => {
  test('refused as Loki refuses them', () => {
    const refused: [string, string][] = [
      ['field with space', 'syntax error: unexpected KEY'],
      ['foo.bar', 'unexpected char .'],
      ['1x', 'syntax error: unexpected $end, expecting STRING or KEY'],
      ['', 'syntax error: unexpected $end, expecting STRING or KEY'],
    ];
    for (const [expr, msg] of refused) {
      assert.throws(
        () => compileLogPipeline([logfmtx([['x', expr]])]),
        { name: 'LogPipelineCompileError', message: `cannot parse expression [${expr}]: ${msg}` },
        expr,
      );
    }
  });
  test('a quoted key is the key', () => {
    assert.deepEqual(run([logfmtx([['x', '"level"']])], 'level=info')?.parsed, { x: 'info' });
  });
  test('a line key named like a requested label sets it too (Loki compares both)', () => {
    assert.deepEqual(run([logfmtx([['a', 'b']])], 'a=1 b=2')?.parsed, { a: '1' });
  });
});

describe('logfmt values with escapes and literal control characters (issue 14 item 13)', () => {
  const cases: [string, string][] = [
    [String.raw`a="x\'y"`, "x'y"],
    [String.raw`a="\/\b\f"`, '/\b\f'],
    [String.raw`a="\u00e9\u0041"`, 'éA'],
    [String.raw`a="\ud83d\ude00"`, '😀'],
    // half a surrogate pair becomes U+FFFD, then a space
    [String.raw`a="\ud800x"`, ' x'],
    ['a="tab\there\\n"', 'tab\there\n'],
    ['a="two\nlines \\"quoted\\""', 'two\nlines "quoted"'],
  ];
  for (const [line, want] of cases) {
    test(JSON.stringify(line), () => assert.deepEqual(run([logfmt()], line)?.parsed, { a: want }));
  }
  test('an unknown escape is an invalid quoted value', () => {
    assert.deepEqual(run([logfmt()], String.raw`a="x\qy" b=1`)?.parsed, { b: '1' });
    assert.deepEqual(flat([logfmt({ strict: true })], String.raw`a="x\qy" b=1`)?.labels, {
      __error__: 'LogfmtParserErr',
      __error_details__: 'logfmt syntax error at pos 9 : invalid quoted value',
    });
  });
});

describe("json errors as jsonparser's ObjectEach reports them", () => {
  const cases: [string, Labels][] = [
    // a comma right before the brace is refused, one with a space between is not (grafana/jsonparser)
    ['{"a":1,}', { a: '1', __error__: 'JSONParserErr', __error_details__: OBJECT_ERR }],
    ['{"a":1, }', { a: '1' }],
    // jsonparser's own texts, odd as some are: an object cut after a value is "array"
    [
      '{"a":1',
      {
        a: '1',
        __error__: 'JSONParserErr',
        __error_details__: "Value is array, but can't find closing ']' symbol",
      },
    ],
    ['{"a":', { __error__: 'JSONParserErr', __error_details__: 'Malformed JSON error' }],
    ['{"a" 1}', { __error__: 'JSONParserErr', __error_details__: 'Malformed JSON error' }],
    ['{"a', { __error__: 'JSONParserErr', __error_details__: 'Malformed JSON error' }],
    ['{"a":1 "b":2}', { a: '1', __error__: 'JSONParserErr', __error_details__: OBJECT_ERR }],
    [
      '{"a\\q":1}',
      { __error__: 'JSONParserErr', __error_details__: 'Encountered an invalid escape sequence in a string' },
    ],
    ['{"a":{"b":"x}', { __error__: 'JSONParserErr', __error_details__: OBJECT_ERR }],
  ];
  for (const [line, want] of cases) {
    test(line, () => assert.deepEqual(flat([json()], line)?.labels, want));
  }
  test('control characters in a JSON string are kept, as jsonparser keeps them', () => {
    assert.deepEqual(run([json()], '{"a":"x\ty\\n","b":"\u0001"}')?.parsed, { a: 'x\ty\n', b: '\u0001' });
  });
});
