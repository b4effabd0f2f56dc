import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatLabels,
  isValidLabelName,
  LabelParseError,
  labelSetText,
  parseLabels,
} from '../../../src/formats/loki-push/index.js';

test('parses a Loki labels string and prints it as Loki does (sorted, ", "-separated)', () => {
  const p = parseLabels('{namespace="y", app="x"}');
  assert.equal(p.text, '{app="x", namespace="y"}');
  assert.deepEqual({ ...p.labels }, { app: 'x', namespace: 'y' });
  assert.deepEqual(
    p.pairs.map((l) => [l.name, l.value]),
    [
      ['app', 'x'],
      ['namespace', 'y'],
    ],
  );
});

test('accepts what Prometheus ParseMetric accepts: spaces, trailing comma, comments, empty sets', () => {
  assert.equal(parseLabels(' {\n a = "1" ,\tb="2", } ').text, '{a="1", b="2"}');
  assert.equal(parseLabels('{a="1", # a comment\n b="2"}').text, '{a="1", b="2"}');
  assert.equal(parseLabels('{}').text, '{}');
  assert.equal(parseLabels('').text, '{}');
  assert.deepEqual(parseLabels('up{job="x"}').labels, { __name__: 'up', job: 'x' });
  assert.equal(parseLabels('{"quoted"="name"}').text, '{quoted="name"}');
});

test('drops empty values, as Loki normalises labels', () => {
  assert.equal(parseLabels('{a="1", b=""}').text, '{a="1"}');
  assert.deepEqual(parseLabels('{a=""}').pairs, []);
});

test('reads Go string escapes, single quotes and raw backtick strings', () => {
  assert.equal(parseLabels('{a="x\\"y\\\\z\\n\\t"}').labels.a, 'x"y\\z\n\t');
  assert.equal(parseLabels("{a='it\"s'}").labels.a, 'it"s');
  assert.equal(parseLabels("{a='\\''}").labels.a, "'");
  assert.equal(parseLabels('{a=`C:\\path\\n`}').labels.a, 'C:\\path\\n');
  // \u is a code point, \x and octal are bytes (so two of them make é), as in Go.
  assert.equal(parseLabels('{a="\\u00e9|\\xc3\\xa9|\\101|\\U0001F600"}').labels.a, 'é|é|A|😀');
  assert.equal(parseLabels('{a="é 日本"}').labels.a, 'é 日本');
});

test('prints values with Go quoting, so odd values print as Loki prints them', () => {
  assert.equal(parseLabels('{a="x\\"y\\n"}').text, '{a="x\\"y\\n"}');
  assert.equal(
    formatLabels([{ name: 'a', value: 'tab\there\u0001\u00a0é' }]),
    '{a="tab\\there\\x01\\u00a0é"}',
  );
});

test('keeps duplicate names (sorted) for the validator to reject', () => {
  const p = parseLabels('{b="2", a="1", a="3"}');
  assert.equal(p.text, '{a="1", a="3", b="2"}');
  assert.equal(p.pairs.length, 3);
});

test('parses each distinct string once: the same object comes back, also for its printed form', () => {
  const a = parseLabels('{zz="1",  yy="2"}');
  assert.equal(parseLabels('{zz="1",  yy="2"}'), a);
  assert.equal(parseLabels(a.text), a);
  assert.ok(Object.isFrozen(a.labels));
  assert.throws(() => {
    (a.labels as Record<string, string>).zz = 'changed';
  }, TypeError);
});

test('keeps a label named __proto__ as a label', () => {
  const p = parseLabels('{__proto__="x"}');
  assert.deepEqual(Object.keys(p.labels), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(p.labels, '__proto__')?.value, 'x');
});

test('fails with Prometheus parse errors (line:column, Prometheus wording)', () => {
  const cases: [string, string][] = [
    ['{a}', '1:3: parse error: unexpected "}" in label set, expected "="'],
    ['{a=b}', '1:4: parse error: unexpected identifier "b" in label set, expected string'],
    ['{a="b"', '1:7: parse error: unexpected end of input inside braces'],
    ['{=}', '1:2: parse error: unexpected "=" in label set, expected identifier or "}"'],
    ['{a=~"b"}', '1:3: parse error: unexpected <op:=~> in label set, expected "="'],
    ['{a!="b"}', '1:3: parse error: unexpected <op:!=> in label set, expected "="'],
    ['{a="b" c="d"}', '1:8: parse error: unexpected identifier "c" in label set, expected "," or "}"'],
    ['{a="b",,}', '1:8: parse error: unexpected "," in label set, expected identifier or "}"'],
    ['{foo.bar="x"}', "1:5: parse error: unexpected character inside braces: '.'"],
    ['{a-b="x"}', "1:3: parse error: unexpected character inside braces: '-'"],
    ['{a="\\q"}', "1:4: parse error: unknown escape sequence U+0071 'q'"],
    ['{a="\\xZZ"}', "1:4: parse error: illegal character U+005A 'Z' in escape sequence"],
    ['{a="\\uD800"}', '1:4: parse error: escape sequence is an invalid Unicode code point'],
    ['{a="x\ny"}', '1:4: parse error: unterminated quoted string'],
    ['{a=`x', '1:4: parse error: unterminated raw string'],
    ['{a="\uFFFD"}', '1:4: parse error: invalid UTF-8 rune'],
    ['{{a="x"}', "1:2: parse error: unexpected left brace '{'"],
    ['{a!b="x"}', "1:3: parse error: unexpected character after '!' inside braces: 'b'"],
    ['app="x"', '1:4: parse error: unexpected "="'],
    ['{a="b"} x', '1:9: parse error: unexpected identifier "x"'],
    ['{a="a long string value"}x', '1:26: parse error: unexpected identifier "x"'],
    ['{a=1}', "1:4: parse error: unexpected character inside braces: '1'"],
    ['{a=\n1}', "2:1: parse error: unexpected character inside braces: '1'"],
    ['{é="x"}', "1:2: parse error: unexpected character inside braces: 'é'"],
    ['{"a.b"="x"}', '1:2: parse error: invalid label name "a.b"'],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseLabels(input),
      (err: unknown) => err instanceof LabelParseError && err.message === message,
      `${JSON.stringify(input)} should fail with ${message}`,
    );
  }
});

test('a long string token is shown cut to ten characters, as Prometheus shows it', () => {
  assert.throws(() => parseLabels('{"averyveryverylongname" x}'), {
    message: '1:26: parse error: unexpected identifier "x" in label set, expected "," or "}"',
  });
  assert.throws(() => parseLabels('{a="x"} "averyveryverylongvalue"'), {
    message: '1:9: parse error: unexpected string "\\"averyvery"...',
  });
});

test('column counts bytes, as Go does', () => {
  assert.throws(() => parseLabels('{a="é", b}'), {
    message: '1:11: parse error: unexpected "}" in label set, expected "="',
  });
});

test('label name validity is [a-zA-Z_][a-zA-Z0-9_]*', () => {
  for (const ok of ['a', '_', 'app', 'A_1', '__name__', 'k8s_pod_name']) assert.ok(isValidLabelName(ok), ok);
  for (const bad of ['', '1a', 'a-b', 'a.b', 'a:b', 'é', 'a b']) assert.ok(!isValidLabelName(bad), bad);
});

test('labelSetText prints a JSON stream object as Loki LabelSet.String() does', () => {
  assert.equal(labelSetText({ b: 'x"y', a: '1' }), '{a="1", b="x\\"y"}');
  assert.equal(labelSetText({}), '{}');
  // Names are written as they are, so a bad one then fails to parse as in Loki.
  assert.equal(labelSetText({ 'foo.bar': 'x' }), '{foo.bar="x"}');
});
