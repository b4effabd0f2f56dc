/** The `X-Kjournal-Entries-*` headers and the reading of a plain Loki's grouped refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countLokiRefusals,
  entryCountHeaders,
  formatRefused,
  parseEntryCountHeaders,
} from '../../src/formats/entry-counts.js';

test('headers round-trip; refused reasons sorted; absent when nothing was refused', () => {
  const h = entryCountHeaders({ stored: 5, duplicates: 2, refused: { too_old: 3, too_new: 1 } });
  assert.deepEqual(h, {
    'x-kjournal-entries-stored': '5',
    'x-kjournal-entries-duplicate': '2',
    'x-kjournal-entries-refused': 'too_new=1, too_old=3',
  });
  assert.deepEqual(parseEntryCountHeaders(h), {
    stored: 5,
    duplicates: 2,
    refused: { too_new: 1, too_old: 3 },
  });
  assert.deepEqual(entryCountHeaders({ stored: 1, duplicates: 0, refused: { too_old: 0 } }), {
    'x-kjournal-entries-stored': '1',
    'x-kjournal-entries-duplicate': '0',
  });
  assert.equal(formatRefused({}), '');
});

test('a server without the headers, or with unreadable ones, gives no counts', () => {
  assert.equal(parseEntryCountHeaders({}), undefined);
  assert.equal(parseEntryCountHeaders({ 'x-kjournal-entries-stored': 'many' }), undefined);
  assert.equal(
    parseEntryCountHeaders({ 'x-kjournal-entries-stored': '1', 'x-kjournal-entries-refused': 'too_old' }),
    undefined,
  );
  assert.deepEqual(parseEntryCountHeaders({ 'x-kjournal-entries-stored': '4' }), {
    stored: 4,
    duplicates: 0,
    refused: {},
  });
});

test("a plain Loki's 400 is counted from its grouped messages", () => {
  const old = (ts: string) =>
    `entry for stream '{a="x; y"}' has timestamp too old: ${ts}, oldest acceptable timestamp is: 2026-11-24T00:00:00Z`;
  assert.deepEqual(countLokiRefusals(`${old('2020-01-01T00:00:00Z')}\n`), { too_old: 1 });
  assert.deepEqual(
    countLokiRefusals(
      `1 errors like: ${old('2020-01-01T00:00:00Z')}; 1 errors like: ${old('2020-01-02T00:00:00Z')}; ` +
        `3 errors like: entry for stream '{a="b"}' has timestamp too new: 2263-01-01T00:00:00Z; ` +
        `2 errors like: Max entry size '10' bytes exceeded for stream '{a="b"}' while adding an entry with length '11' bytes; ` +
        `1 errors like: stream '{a="b"}' has label value too long: 'v'`,
    ),
    { too_old: 2, too_new: 3, line_too_long: 2, invalid_labels: 1 },
  );
  assert.equal(countLokiRefusals('stream labels are invalid'), undefined);
  assert.equal(countLokiRefusals('error: entry for stream ...'), undefined);
  assert.equal(countLokiRefusals(''), undefined);
});
