import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tmpl } from './helpers.js';

// [template, labels, expected line] — expectations from Loki's template_functions.md and Go/Sprig.
const cases: [string, Record<string, string>, string][] = [
  // Go template basics
  ['{{.path}}', { path: '/a' }, '/a'],
  ['{{ .path | ToUpper }}', { path: '/a' }, '/A'],
  ['{{ .path | replace " " "_" | trunc 5 | upper }}', { path: 'a b c d e f' }, 'A_B_C'],
  ['{{ if and (contains "he" "hello") (contains "llo" "hello") }} yes {{end}}', {}, ' yes '],
  [
    '{{ if contains "ErrTimeout" .err }} timeout {{else if contains "he" "hello"}} yes {{else}} no {{end}}',
    { err: 'x' },
    ' yes ',
  ],
  ['{{ if eq "ErrTimeout" .err }}t{{ else }}f{{ end }}', { err: 'ErrTimeout' }, 't'],
  ['{{ if ne .a "x" }}y{{ end }}', { a: 'z' }, 'y'],
  [
    '{{ if lt 1 2 }}y{{ end }}{{ if le 2 2 }}y{{ end }}{{ if gt 3 2 }}y{{ end }}{{ if ge 2 3 }}n{{ end }}',
    {},
    'yyy',
  ],
  ['{{ if not .a }}empty{{ end }}', {}, 'empty'],
  ['{{ or .a "def" }}|{{ and .b "x" }}', { b: 'B' }, 'def|x'],
  ['{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', { a: 'v' }, '[v]'],
  ['{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', {}, 'none'],
  ['{{ $x := .a }}{{ $x }}{{ $x = "b" }}{{ $x }}', { a: 'a' }, 'ab'],
  ['{{- .a -}}  \n', { a: 'v' }, 'v'],
  ['a {{- /* comment */ -}} b', {}, 'ab'],
  [
    '{{ printf "The IP address was %s" .remote_addr }}',
    { remote_addr: '129.168.1.1' },
    'The IP address was 129.168.1.1',
  ],
  ['{{ printf "%-10.3s|%5d|%q|%v|%x" .a 42 "q" true 255 }}', { a: 'abcdef' }, 'abc       |   42|"q"|true|ff'],
  ['{{ printf "%.2f %e %g" 3.14159 1234.5 0.5 }}', {}, '3.14 1.234500e+03 0.5'],
  ['{{ printf "%d" "x" }}', {}, '%!d(string=x)'],
  ['{{ print "a" 1 2 "b" }}', {}, 'a1 2b'],
  ['{{ len .a }}', { a: 'héllo' }, '6'],
  ['{{ index (fromJson .j) "k" }}', { j: '{"k":"v"}' }, 'v'],
  [
    '{{ range $q := fromJson .queries }} {{ $q.query }} {{ end }}',
    { queries: '[{"query":"a"},{"query":"b"}]' },
    ' a  b ',
  ],
  ['{{ range $k, $v := fromJson .m }}{{$k}}={{$v}};{{ end }}', { m: '{"b":2,"a":1}' }, 'a=1;b=2;'],
  ['{{ fromJson "{\\"foo\\": 55}" }}', {}, 'map[foo:55]'],
  ['{{ fromJson "nope" }}', {}, '<no value>'],
  // __line__ / __timestamp__
  ['{{ __line__ | lower }}', {}, 'the line'],
  ['{{ __timestamp__ | date "2006-01-02T15:04:05.00Z07:00" }}', {}, '2023-11-14T22:13:20.12Z'],
  ['{{ __timestamp__ | unixEpoch }}', {}, '1700000000'],
  ['{{ __timestamp__ }}', {}, '2023-11-14 22:13:20.123456789 +0000 UTC'],
  // date and time
  ['{{ toDate "2006-01-02" "2021-11-02" | unixEpoch }}', {}, '1635811200'],
  [
    '{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochMillis }}',
    { foo: '2021-11-02T10:00:00.5Z' },
    '1635847200500',
  ],
  ['{{ toDateInZone "2006-01-02 15:04" "Europe/Paris" "2021-07-01 12:00" | unixEpoch }}', {}, '1625133600'],
  ['{{ toDateInZone "2006-01-02" "UTC" "2021-11-02" | unixEpochNanos }}', {}, '1635811200000000000'],
  ['{{ toDate "2006-01-02" "garbage" }}', {}, '0001-01-01 00:00:00 +0000 UTC'],
  ['{{ date "2006-01-02" (unixToTime .from) }}', { from: '1679577215' }, '2023-03-23'],
  ['{{ unixToTime "1679577215123" | unixEpochMillis }}', {}, '1679577215123'],
  ['{{ unixToTime "19439" | unixEpoch }}', {}, '1679529600'],
  [
    '{{ date "Mon Jan _2 3:04PM 2006 MST" (toDate "2006-01-02 15:04" "2021-03-05 17:09") }}',
    {},
    'Fri Mar  5 5:09PM 2021 UTC',
  ],
  ['{{ unixEpoch now | len | lt 9 }}', {}, 'true'],
  ['{{ duration "1h30m" }}', {}, '5400'],
  ['{{ .foo | duration_seconds }}', { foo: '1.5s' }, '1.5'],
  // strings
  ['{{ alignLeft 5 "hello world"}}', {}, 'hello'],
  ['{{ alignLeft 5 "hi"}}', {}, 'hi   '],
  ['{{ alignRight 5 "hello world"}}', {}, 'world'],
  ['{{ alignRight 5 "hi"}}', {}, '   hi'],
  ['{{ .foo | b64enc }}', { foo: 'hello' }, 'aGVsbG8='],
  ['{{ b64dec .foo }}', { foo: 'aGVsbG8=' }, 'hello'],
  ['{{ .foo | bytes }}', { foo: '2 KiB' }, '2048'],
  ['{{ bytes "1GB" }}', {}, '1e+09'],
  ['{{ default "-" "" }}', {}, '-'],
  ['{{ default "-" "foo" }}', {}, 'foo'],
  ['{{.http_request_headers_x_forwarded_for | default "-"}}', {}, '-'],
  ['{{ .request_method | lower }}|{{ lower "HELLO"}}', { request_method: 'GET' }, 'get|hello'],
  ['{{ indent 4 .query }}', { query: 'a\nb' }, '    a\n    b'],
  ['{{ nindent 2 .query }}', { query: 'a\nb' }, '\n  a\n  b'],
  ['{{ repeat 3 "hello" }}', {}, 'hellohellohello'],
  [
    '{{ .cluster | replace "-cluster" "" }}|{{ replace "hello" "world" "hello world" }}',
    { cluster: 'prod-cluster' },
    'prod|world world',
  ],
  [
    '{{ .path | substr 2 5 }}|{{ substr 0 5 "hello world"}}|{{ substr 6 11 "hello world"}}',
    { path: '/api/x' },
    'pi/|hello|world',
  ],
  ['{{ title "hello world"}}', {}, 'Hello World'],
  ['{{ .ip | trim }}|{{ trim "   hello    " }}', { ip: ' 1.2.3.4 ' }, '1.2.3.4|hello'],
  ['{{ .path | trimAll "/" }}|{{ trimAll "$" "$5.00" }}', { path: '/a/' }, 'a|5.00'],
  ['{{ trimPrefix "-" "-hello" }}|{{ trimSuffix "-" "hello-" }}', {}, 'hello|hello'],
  ['{{ trunc 5 "hello world"}}|{{ trunc -5 "hello world"}}|{{ trunc 2 "é€x" }}', {}, 'hello|world|é€'],
  ['{{ upper "hello" }}', {}, 'HELLO'],
  ['{{ .u | urlencode }}', { u: 'a b&c=d/é' }, 'a+b%26c%3Dd%2F%C3%A9'],
  ['{{ urldecode .u }}', { u: 'a+b%26c' }, 'a b&c'],
  ['{{ if hasPrefix "he" "hello" }}p{{ end }}{{ if hasSuffix "lo" "hello" }}s{{ end }}', {}, 'ps'],
  ['{{ ToLower "A" }}{{ ToUpper "b" }}{{ Replace "aaa" "a" "b" 2 }}{{ Trim "xxhixx" "x" }}', {}, 'aBbbahi'],
  [
    '{{ TrimLeft "xxhi" "x" }}|{{ TrimRight "hixx" "x" }}|{{ TrimPrefix "prefix-a" "prefix-" }}|{{ TrimSuffix "a.go" ".go" }}|{{ TrimSpace " s " }}',
    {},
    'hi|hi|a|a|s',
  ],
  // math
  ['{{ add 3 2 5 }}', {}, '10'],
  ['{{ addf 3.5 2 5 }}', {}, '10.5'],
  ['{{ addf 0.1 0.2 }}', {}, '0.3'],
  ['{{ ceil 123.001 }}', {}, '124'],
  ['{{ div 10 2 }}', {}, '5'],
  ['{{ divf 10 2 4 }}', {}, '1.25'],
  ['{{ "3.5" | float64 }}', {}, '3.5'],
  ['{{ floor 123.9999 }}', {}, '123'],
  ['{{ "3" | int }}', {}, '3'],
  ['{{ max 1 2 3 }}|{{ min 1 2 3 }}', {}, '3|1'],
  ['{{ maxf 1 2.5 3 }}|{{ minf 1.5 2.5 3 }}', {}, '3|1.5'],
  ['{{ mul 5 2 3 }}|{{ mulf 5.5 2 2.5 }}', {}, '30|27.5'],
  ['{{ mod 10 3 }}', {}, '1'],
  ['{{ round 123.555555 3 }}', {}, '123.556'],
  ['{{ round 123.88571428571 5 .2 }}', {}, '123.88572'],
  ['{{ sub 5 2 }}|{{ subf 5.5 2 1.5 }}', {}, '3|2'],
  ['{{ sub .nowEpoch .createDateEpoch }}', { nowEpoch: '100', createDateEpoch: '40' }, '60'],
  ['{{ add .status 1 }}', { status: '200' }, '201'],
  // regex
  ['{{ count "a|b" "abab" }}|{{ count "o" "foo" }}', {}, '4|2'],
  ['{{ __line__ | count "XYZ"}}', {}, '0'],
  [`{{ regexReplaceAll "(a*)bc" .some_label "\${1}a" }}`, { some_label: 'aabcxbc' }, 'aaaxa'],
  ['{{ regexReplaceAll "(?P<k>\\\\w+)=" .l "$k:" }}', { l: 'a=1 b=2' }, 'a:1 b:2'],
  ['{{ regexReplaceAllLiteral "(ts=)" .timestamp "timestamp=" }}', { timestamp: 'ts=1' }, 'timestamp=1'],
  ['{{ regexReplaceAllLiteral "a" "aa" "$1" }}', {}, '$1$1'],
];

describe('template functions', () => {
  for (const [template, labels, want] of cases) {
    test(template, () => assert.equal(tmpl(template, labels), want));
  }
});

describe('template errors → TemplateFormatErr', () => {
  for (const template of [
    '{{ div 1 0 }}',
    '{{ trunc "5" .a }}',
    '{{ ToUpper 5 }}',
    '{{ gt .status 200 }}',
    '{{ .a.b }}',
    '{{ urldecode "%zz" }}',
    '{{ unixToTime "123" }}',
    '{{ regexReplaceAll "(" "a" "b" }}',
    '{{ duration "5" }}',
    '{{ bytes "5 parsecs" }}',
    '{{ unixEpoch "x" }}',
    '{{ "a" "b" }}',
  ]) {
    test(template, () =>
      assert.match(tmpl(template, { a: 'x', status: '500' }), /^ERR TemplateFormatErr: template: line: /),
    );
  }
});

describe('template syntax details', () => {
  const more: [string, Record<string, string>, string][] = [
    ['{{ (fromJson .j).k }}', { j: '{"k":"v"}' }, 'v'],
    ['{{ $m := fromJson .j }}{{ $m.a.b }}', { j: '{"a":{"b":[1,2]}}' }, '[1 2]'],
    [
      '{{ range $i, $e := fromJson .j }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $e }}{{ end }}',
      { j: '["x","y","z"]' },
      'x',
    ],
    ['{{ range fromJson .j }}{{ . }}{{ else }}empty{{ end }}', { j: '[]' }, 'empty'],
    ['{{ .a }} {{ .b }}', { a: '1', b: '2' }, '1 2'],
    [
      '{{ "raw" }} {{ `back\\tick` }} {{ \'a\' }} {{ 0x1F }} {{ 1.5 }} {{ -3 }}',
      {},
      'raw back\\tick 97 31 1.5 -3',
    ],
    ['{{ printf "%s=%v" "k" (add 1 2) }}', {}, 'k=3'],
    ['{{ .__error__ }}', {}, ''],
    ['{{ . | len }}', { a: '1', b: '2' }, '2'],
  ];
  for (const [template, labels, want] of more) {
    test(template, () => assert.equal(tmpl(template, labels), want));
  }
});
