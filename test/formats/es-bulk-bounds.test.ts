/**
 * Bulk bodies bounded line by line (formats/es-bulk/bulk.ts, records.ts): the fields kept over a
 * whole body are bounded (413 past it), a document past Elasticsearch's mapping limits is refused
 * alone, and the documents are handed to the sink as parsed (none is kept in the items).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from '../../src/formats/errors.js';
import { bulkBodyRecords, ES_MAX_DEPTH, LabelSets } from '../../src/formats/es-bulk/records.js';

const now = 1_700_000_000_000_000_000n;
const body = (docs: unknown[]): Buffer =>
  Buffer.from(`${docs.map((d) => `{"index":{"_index":"b"}}\n${JSON.stringify(d)}`).join('\n')}\n`);

test('the fields of a whole body are bounded: past the limit the request is refused (too large)', () => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ message: `m${i}`, a: 1, b: 2 }));
  const ok = bulkBodyRecords(body(docs), '', 100, now, new LabelSets(), 30);
  assert.equal(ok.records.length, 10);
  assert.throws(
    () => bulkBodyRecords(body(docs), '', 100, now, new LabelSets(), 29),
    (err: unknown) =>
      err instanceof FormatError && err.code === 'too-large' && /more than 29 values/.test(err.message),
  );
});

test('depth at the limit is taken, one more level is refused alone; items keep no documents; slots skip refused items', () => {
  const nest = (levels: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = { n: v };
    return v;
  };
  // The document itself is level 1: ES_MAX_DEPTH - 1 more objects reach the limit.
  const r = bulkBodyRecords(
    body([
      { message: 'at limit', x: nest(ES_MAX_DEPTH - 1) },
      { message: 'past', x: nest(ES_MAX_DEPTH) },
      { message: 'next' },
    ]),
    '',
    100,
    now,
    new LabelSets(),
  );
  assert.deepEqual(
    r.records.map((x) => x.body),
    ['at limit', 'next'],
  );
  assert.deepEqual(r.slot, [0, -1, 1]);
  assert.equal(r.items[1]!.error!.status, 400);
  for (const item of r.items) assert.ok(!('doc' in item));
});
