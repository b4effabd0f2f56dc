/**
 * src/go/quote.ts against Go's own tables: strconv's quotetests and quoterunetests
 * (strconv/quote_test.go; the rows with invalid UTF-8 cannot be JavaScript strings), fmt's `%#U`,
 * and strconv.Unquote's escapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goQuote, goQuoteRune, goQuoteTruncated, goUnicode, unquoteGo } from '../../src/go/quote.js';

test("strconv.Quote: the rows of Go's quotetests", () => {
  const rows: [string, string][] = [
    ['\x07\b\f\r\n\t\v', '"\\a\\b\\f\\r\\n\\t\\v"'],
    ['\\', '"\\\\"'],
    ['\u263a', '"☺"'],
    ['\u{10ffff}', '"\\U0010ffff"'],
    ['\x04', '"\\x04"'],
    ['!\u00a0!\u2000!\u3000!', '"!\\u00a0!\\u2000!\\u3000!"'],
    ['\x7f', '"\\x7f"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['', '""'],
  ];
  for (const [s, want] of rows) assert.equal(goQuote(s), want, JSON.stringify(s));
});

test("strconv.QuoteRune: the rows of Go's quoterunetests, and %.Nq", () => {
  assert.equal(goQuoteRune('a'.codePointAt(0)!), "'a'");
  assert.equal(goQuoteRune(0x07), "'\\a'");
  assert.equal(goQuoteRune(0x5c), "'\\\\'");
  assert.equal(goQuoteRune(0xff), "'ÿ'");
  assert.equal(goQuoteRune(0x263a), "'☺'");
  assert.equal(goQuoteRune(0x27), "'\\''");
  assert.equal(goQuoteRune(0x22), `'"'`);
  assert.equal(goQuoteTruncated('héllo', 2), '"hé"');
});

test("fmt's %#U", () => {
  assert.equal(goUnicode(0x22), `U+0022 '"'`);
  assert.equal(goUnicode(0x07), 'U+0007');
  assert.equal(goUnicode(0x263a), "U+263A '☺'");
});

test('strconv.Unquote: raw strings, byte escapes joined into UTF-8, code points, quotes', () => {
  assert.equal(unquoteGo('`a\\nb`'), 'a\\nb');
  assert.equal(unquoteGo('"a\\nb\\t"'), 'a\nb\t');
  assert.equal(unquoteGo('"\\xc3\\xa9"'), 'é');
  assert.equal(unquoteGo('"\\303\\251"'), 'é');
  assert.equal(unquoteGo('"\\u263a\\U0001F600"'), '☺😀');
  assert.equal(unquoteGo('"say \\"hi\\""'), 'say "hi"');
  assert.equal(unquoteGo("'\\''"), "'");
});
