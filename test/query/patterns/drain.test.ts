/**
 * Drain and its tokenizers (src/query/patterns): clusters and their `<_>` templates, Loki's tree
 * and LRU bounds, the eviction limiter, the three tokenizers and format detection. Cases marked
 * "Loki" are transcribed from Loki v3.4's pkg/pattern/drain/drain_test.go (inputs and expected
 * outputs as data).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePattern } from '../../../src/logql/stages/pattern.js';
import { type Cluster, DEFAULT_DRAIN_CONFIG, Drain } from '../../../src/query/patterns/drain.js';
import {
  collapsePlaceholders,
  detectLogFormat,
  JsonTokenizer,
  jsonMessage,
  LogfmtTokenizer,
  PunctuationTokenizer,
  tokenizerFor,
} from '../../../src/query/patterns/tokenizers.js';

const MIN = 60_000_000_000n;

function mine(lines: readonly string[], drain = new Drain(new PunctuationTokenizer())): string[] {
  for (const l of lines) drain.train(l, 0n);
  return drain
    .all()
    .map((c) => drain.template(c))
    .sort();
}

describe('Drain: clusters and templates', () => {
  test('Loki: lines that differ in one token make one template that every line matches (|>)', () => {
    const cases: [string, string[]][] = [
      ['plain', ['test 1 test test', 'test 2 test test', 'test 3 test test', 'test 4 test test']],
      [
        'trailing newline',
        ['test 1 test test\n', 'test 2 test test\n', 'test 3 test test\n', 'test 4 test test\n'],
      ],
      ['trailing tabs', ['test 1 test test\t\t\t', 'test 2 test test\t\t\t', 'test 3 test test\t\t\t']],
      ['leading tabs', ['\t\t\ttest 1 test test', '\t\t\ttest 2 test test', '\t\t\ttest 3 test test']],
      [
        'scheduler',
        [
          'ts=2024-05-30T12:50:36.648377186Z caller=scheduler_processor.go:143 level=warn msg="error contacting scheduler" err="rpc error: code = Unavailable desc = connection error: desc = \\"error reading server preface: EOF\\"" addr=10.0.151.101:9095',
          'ts=2024-05-30T12:50:36.350575929Z caller=scheduler_processor.go:143 level=warn msg="error contacting scheduler" err="rpc error: code = Unavailable desc = connection error: desc = \\"error reading server preface: EOF\\"" addr=10.0.151.101:9095',
          'ts=2024-05-30T12:50:36.248030329Z caller=scheduler_processor.go:143 level=warn msg="error contacting scheduler" err="rpc error: code = Unavailable desc = connection error: desc = \\"error reading server preface: EOF\\"" addr=10.0.45.239:9095',
        ],
      ],
    ];
    for (const [name, lines] of cases) {
      const drain = new Drain(new PunctuationTokenizer());
      const templates = mine(lines, drain);
      assert.equal(templates.length, 1, name);
      const filter = compilePattern(templates[0]!, true);
      for (const l of lines) assert.ok(filter.test(l), `${name}: ${JSON.stringify(l)} ~ ${templates[0]}`);
    }
    assert.deepEqual(mine(['test 1 test test', 'test 2 test test']), ['test <_> test test']);
  });

  test('different messages are different clusters; each keeps its constant tokens', () => {
    const lines = [
      'GET /api/users 200 12ms',
      'connection from 10.0.0.1 closed',
      'GET /api/users 200 7ms',
      'connection from 10.0.0.2 closed',
      'GET /api/users 500 103ms',
      // Leading tokens without digits choose the tree's branch: another path, another cluster.
      'GET /api/orders 200 7ms',
    ];
    assert.deepEqual(mine(lines), [
      'GET /api/orders 200 7ms',
      'GET /api/users <_> <_>',
      'connection from <_> closed',
    ]);
  });

  test('a line joins a cluster only if at least 30% of its tokens are the same', () => {
    // Tokens with digits share the tree's `<_>` branch, so these meet at one leaf.
    assert.deepEqual(mine(['a1 b2 c3 delta', 'a1 b5 c6 z']), ['a1 b2 c3 delta', 'a1 b5 c6 z']); // 1 of 4
    assert.deepEqual(mine(['a1 b2 c3 delta', 'a1 b5 c6 delta']), ['a1 <_> <_> delta']); // 2 of 4
    // Lines of different token counts never share a cluster.
    assert.deepEqual(mine(['a1 b2 c3 d4', 'a1 b2 c3 d4 e5']), ['a1 b2 c3 d4', 'a1 b2 c3 d4 e5']);
  });

  test('tokens with digits take the <_> branch of the tree', () => {
    // The first token differs: with digits both lines go down the same `<_>` branch and merge.
    assert.deepEqual(mine(['id1 started job now', 'id2 started job now']), ['<_> started job now']);
    // Without digits each first token has its own branch: no merge.
    assert.deepEqual(mine(['alpha started job now', 'beta started job now']), [
      'alpha started job now',
      'beta started job now',
    ]);
  });

  test('a tree node has at most maxChildren children, the last one `<_>`', () => {
    // 20 distinct first words: the first 14 get a branch each, the rest share the `<_>` branch.
    const words =
      'ant bee cat dog eel fox gnu hen ibis jay kiwi lark mole newt owl pig quail rat seal toad'.split(' ');
    const templates = mine(words.map((w) => `${w} said hello world`));
    assert.equal(templates.filter((t) => t === '<_> said hello world').length, 1);
    assert.equal(templates.length, 15);
  });

  test('lines of fewer than 4 or more than 80 tokens, or over 3,000 bytes, are not mined', () => {
    const drain = new Drain(new PunctuationTokenizer());
    assert.equal(drain.train('too few tokens', 0n), undefined);
    assert.equal(drain.train(Array.from({ length: 81 }, (_, i) => `w${i}`).join(' '), 0n), undefined);
    assert.ok(drain.train(Array.from({ length: 80 }, (_, i) => `w${i}`).join(' '), 0n));
    assert.equal(drain.train(`a b c ${'é'.repeat(1500)}`, 0n), undefined); // 3,006 bytes
    assert.ok(drain.train(`a b c ${'e'.repeat(2990)}`, 0n));
  });
});

describe('Drain: bounds', () => {
  test('at most maxClusters are kept, the least recently used evicted', () => {
    const evicted: Cluster[] = [];
    const drain = new Drain(
      new PunctuationTokenizer(),
      // No pause on evictions here (the limiter has a test of its own).
      { ...DEFAULT_DRAIN_CONFIG, maxClusters: 3, maxEvictionRatio: 1 },
      {
        evicted: (c) => evicted.push(c),
      },
    );
    // Different token counts: never the same cluster.
    const lines = Array.from({ length: 6 }, (_, i) => Array.from({ length: 4 + i }, () => 'tok').join(' '));
    for (const [i, l] of lines.entries()) drain.train(l, BigInt(i));
    assert.equal(drain.all().length, 3);
    assert.deepEqual(
      evicted.map((c) => c.tokens.length),
      [4, 5, 6],
    );
    // A line of an evicted template starts a new cluster.
    const again = drain.train(lines[0]!, 10n);
    assert.equal(again?.size, 1);
  });

  test("Loki's limiter: beyond 25% evictions the miner pauses for 10 minutes of the lines' time", () => {
    const drain = new Drain(new PunctuationTokenizer(), { ...DEFAULT_DRAIN_CONFIG, maxClusters: 1 });
    const line = (n: number) => Array.from({ length: 4 + (n % 2) }, () => 'x').join(' ');
    // Alternating token counts: every new cluster evicts the other.
    assert.ok(drain.train(line(0), 0n)); // added 1
    assert.ok(drain.train(line(1), 1n)); // added 2, evicted 1: 50%
    assert.equal(drain.train(line(0), 2n), undefined); // paused
    assert.equal(drain.train(line(0), 9n * MIN), undefined); // still paused
    assert.ok(drain.train(line(0), 10n * MIN + 2n)); // resumed, counts reset
  });

  test('admit can refuse a new cluster; a line of an existing one still joins it', () => {
    let allowed = 1;
    const drain = new Drain(new PunctuationTokenizer(), DEFAULT_DRAIN_CONFIG, { admit: () => allowed-- > 0 });
    assert.ok(drain.train('a b c d1', 0n));
    assert.equal(drain.train('x y z w v', 0n), undefined);
    assert.equal(drain.train('a b c d2', 0n)?.size, 2);
  });
});

describe('tokenizers', () => {
  test('punctuation: spaces, `=` and punctuation cut tokens; `_ - . : /` and symbols do not', () => {
    const t = new PunctuationTokenizer().tokenize('level=info msg:"a b" path=/x/y-z_1.2 a+b|c (ok)');
    assert.deepEqual(t?.tokens, [
      'level',
      '=',
      'info',
      'msg:',
      '"',
      'a',
      'b',
      '"',
      'path',
      '=',
      '/x/y-z_1.2',
      'a+b|c',
      '(',
      'ok',
      ')',
    ]);
    assert.equal(
      new PunctuationTokenizer().join(t!.tokens, t!.spaces),
      'level=info msg:"a b" path=/x/y-z_1.2 a+b|c (ok)',
    );
  });

  test('punctuation: cutting stops at 127 tokens, the rest of the line the last one', () => {
    // As in Loki, the count is checked before each character: a word and its comma make 128.
    const t = new PunctuationTokenizer().tokenize(Array.from({ length: 200 }, (_, i) => `w${i}`).join(','));
    assert.equal(t?.tokens.length, 129);
    assert.equal(t?.tokens[127], ',');
    assert.ok(t?.tokens[128]?.startsWith('w64,w65,'));
  });

  test("Loki's surprise: a template of a line starting with a space prints without spaces", () => {
    const p = new PunctuationTokenizer();
    const t = p.tokenize(' one two three four')!;
    assert.deepEqual(t.spaces, [-1, 0, 1, 2]);
    assert.equal(p.join(t.tokens, t.spaces), 'onetwothreefour');
  });

  test('logfmt: keys and values; time and trace fields are placeholders; go-logfmt quoting', () => {
    const tk = new LogfmtTokenizer();
    const t = tk.tokenize(
      'ts=2024-01-01T00:00:00Z level=info msg="hello world" traceID=abc empty= q="a\\"b"',
    )!;
    assert.deepEqual(t.tokens, [
      'ts',
      '<_>',
      'level',
      'info',
      'msg',
      'hello world',
      'traceID',
      '<_>',
      'empty',
      '',
      'q',
      'a"b',
    ]);
    assert.equal(tk.join(t.tokens), 'ts=<_> level=info msg="hello world" traceID=<_> empty= q="a\\"b"');
    assert.equal(tk.join(['k', 'tab\there\u0001']), 'k="tab\\there\\u0001"');
    assert.equal(tk.join(['', 'v']), '', 'an empty key cannot be written');
    assert.equal(tk.tokenize('a="unterminated'), undefined);
  });

  test('json: the first message field that is a string, escapes kept; none: not mined', () => {
    assert.equal(
      jsonMessage('{"level":"info","msg":"a \\"b\\"","message":"m"}', ['log', 'message', 'msg']),
      'm',
    );
    assert.equal(jsonMessage('{"level":"info","msg":"a \\"b\\""}', ['log', 'message', 'msg']), 'a \\"b\\"');
    assert.equal(jsonMessage('{"log":{"nested":1},"msg":"x"}', ['log', 'msg']), 'x');
    assert.equal(jsonMessage('{"level":"info"}', ['msg']), undefined);
    assert.equal(jsonMessage('{"msg":"ok", "broken', ['msg']), 'ok');
    const tk = new JsonTokenizer();
    assert.equal(tk.tokenize('{"level":"info"}'), undefined);
    const t = tk.tokenize('{"msg":"user 7 logged in"}')!;
    assert.equal(tk.join(t.tokens, t.spaces), '<_>user 7 logged in<_>');
    assert.deepEqual(mine(['{"msg":"user 7 logged in"}', '{"msg":"user 8 logged in"}'], new Drain(tk)), [
      '<_>user <_> logged in<_>',
    ]);
  });

  test("format detection: braces, Loki's logfmt expression, else unknown", () => {
    assert.equal(detectLogFormat('{"a":1}'), 'json');
    assert.equal(detectLogFormat('level=info msg="hello world" n=1'), 'logfmt');
    assert.equal(detectLogFormat('level=info some words'), 'unknown');
    assert.equal(detectLogFormat('x'), 'unknown');
    assert.ok(tokenizerFor('logfmt') instanceof LogfmtTokenizer);
    // A long line that almost matches: RE2 answers at once where a backtracking engine would not.
    const started = performance.now();
    assert.equal(detectLogFormat(`${'a=b '.repeat(2000)}"`), 'unknown');
    assert.ok(performance.now() - started < 1000);
  });

  test('Loki: runs of placeholders collapse into one', () => {
    const cases: [string, string][] = [
      ['abcd', 'abcd'],
      ['<_><_>abcd', '<_>abcd'],
      ['<_>'.repeat(100), '<_>'],
      ['<_> <_>', '<_> <_>'],
      ['<_> '.repeat(100), '<_> '.repeat(100)],
      ['<_><<_>', '<_><<_>'],
      ['<_><->', '<_><->'],
      [`${'<_>'.repeat(100)} `.repeat(100), '<_> '.repeat(100)],
      ['<<<<<<<_><_>>>>>>>>', '<<<<<<<_>>>>>>>>'],
      [`${'A'.repeat(100)}<_><_>`, `${'A'.repeat(100)}<_>`],
    ];
    for (const [line, want] of cases) assert.equal(collapsePlaceholders(line), want, line.slice(0, 40));
  });
});
