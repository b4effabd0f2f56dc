/**
 * Records as NDJSON: nanosecond timestamps exact (as strings), unicode and newlines in bodies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord } from '../../src/model/record.js';
import {
  recordFromJson,
  recordsFromNdjson,
  recordsToNdjson,
  recordToJson,
} from '../../src/pipeline/record-json.js';

const r: LogRecord = {
  timestamp: 1_700_000_000_123_456_789n,
  observedTimestamp: 1_700_000_000_999_999_999n,
  labels: { kind: 'log', class: 'application' },
  attributes: { user: 'ünï' },
  body: 'two\nlines — 日本 🚀',
};

test('a record round-trips through one JSON line, timestamps exact', () => {
  const line = recordToJson(r);
  assert.ok(!line.includes('\n'));
  assert.match(line, /"timestamp":"1700000000123456789"/);
  assert.deepEqual(recordFromJson(line), r);
  assert.deepEqual(recordsFromNdjson(recordsToNdjson([r, r])), [r, r]);
});

test('malformed record JSON is an error', () => {
  assert.throws(
    () => recordFromJson('{"timestamp":1,"observedTimestamp":"1","labels":{},"body":""}'),
    /timestamp/,
  );
  assert.throws(
    () => recordFromJson('{"timestamp":"1","observedTimestamp":"1","labels":{"a":1},"body":""}'),
    /labels\.a/,
  );
  assert.throws(() => recordFromJson('[]'), /not an object/);
});
