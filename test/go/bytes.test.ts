/**
 * src/go/bytes.ts against go-humanize's own ParseBytes test table (bytes_test.go), and the errors
 * Loki puts in `__error_details__`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHumanBytes } from '../../src/go/bytes.js';

test("humanize.ParseBytes: the values of go-humanize's test table", () => {
  const rows: [string, number][] = [
    ['42', 42],
    ['42MB', 42_000_000],
    ['42mib', 44_040_192],
    ['42MIB', 44_040_192],
    ['42 MB', 42_000_000],
    ['42 mib', 44_040_192],
    ['42.5MB', 42_500_000],
    ['42.5MiB', 44_564_480],
    ['42.5 MB', 42_500_000],
    ['42 M', 42_000_000],
    ['42 mi', 44_040_192],
    ['1,005.03 MB', 1_005_030_000],
    ['1KiB', 1024],
    ['2 KB', 2000],
    ['1.5 kb', 1500],
    ['1.9 B', 1], // whole bytes, truncated
    ['1 EiB', 2 ** 60],
  ];
  for (const [s, want] of rows) assert.deepEqual(parseHumanBytes(s), { ok: true, value: want }, s);
});

test('humanize.ParseBytes: refusals, with its error text', () => {
  assert.deepEqual(parseHumanBytes(''), {
    ok: false,
    error: 'strconv.ParseFloat: parsing "": invalid syntax',
  });
  assert.deepEqual(parseHumanBytes('x'), {
    ok: false,
    error: 'strconv.ParseFloat: parsing "": invalid syntax',
  });
  assert.deepEqual(parseHumanBytes('12 parsecs'), { ok: false, error: 'unhandled size name: parsecs' });
  assert.deepEqual(parseHumanBytes('1 ZiB'), { ok: false, error: 'unhandled size name: zib' });
  assert.deepEqual(parseHumanBytes('16 EiB'), { ok: false, error: 'too large: 16 EiB' });
  assert.deepEqual(parseHumanBytes('constructor'), {
    ok: false,
    error: 'strconv.ParseFloat: parsing "": invalid syntax',
  });
  assert.deepEqual(parseHumanBytes('1 constructor'), {
    ok: false,
    error: 'unhandled size name: constructor',
  });
});
