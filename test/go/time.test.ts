/** src/go/time.ts: Go's time.Unix(0, ns).UTC().Format(time.RFC3339), whole seconds rounded down. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRfc3339 } from '../../src/go/time.js';

test('time.RFC3339 as Go formats it', () => {
  assert.equal(formatRfc3339(0n), '1970-01-01T00:00:00Z');
  assert.equal(formatRfc3339(1_700_000_000_999_999_999n), '2023-11-14T22:13:20Z');
  assert.equal(formatRfc3339(-1n), '1969-12-31T23:59:59Z');
  assert.equal(formatRfc3339(-1_000_000_000n), '1969-12-31T23:59:59Z');
});
