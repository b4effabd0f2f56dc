/**
 * A bulk body read line by line from its bytes (formats/es-bulk/bulk.ts): each line decoded on its
 * own, a repeated action line recognised by its bytes, blank lines (Unicode white space included)
 * and CRLF endings as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bulkBodyRecords, LabelSets } from '../../src/formats/es-bulk/records.js';

const now = 1_700_000_000_000_000_000n;

test('lines of any text, actions of the same length with other bytes, blank and CRLF lines', () => {
  const lines = [
    '{"create":{"_index":"aaaa"}}',
    '{"message":"première ligne ✓ 🚀"}',
    '{"create":{"_index":"aaaa"}}',
    '{"message":"plain"}',
    '{"create":{"_index":"cccc"}}',
    '{"message":"same length"}',
    '\u00a0\u2028 ',
    '{"create":{"_index":"bbbb"}}\r',
    '{"message":"crlf"}\r',
    '',
    '{"index":{"_index":"bbbb","_id":"x1"}}',
    '{"message":"日本"}',
  ];
  const r = bulkBodyRecords(Buffer.from(`${lines.join('\n')}\n`), '', 100, now, new LabelSets());
  assert.deepEqual(
    r.records.map((x) => [x.labels.index, x.body]),
    [
      ['aaaa', 'première ligne ✓ 🚀'],
      ['aaaa', 'plain'],
      ['cccc', 'same length'],
      ['bbbb', 'crlf'],
      ['bbbb', '日本'],
    ],
  );
  assert.deepEqual(
    r.items.map((i) => [i.action, i.index, i.id]),
    [
      ['create', 'aaaa', undefined],
      ['create', 'aaaa', undefined],
      ['create', 'cccc', undefined],
      ['create', 'bbbb', undefined],
      ['index', 'bbbb', 'x1'],
    ],
  );
});

test("a broken line's error quotes it as sent; its line number counts blank lines", () => {
  const body = Buffer.from(
    '{"create":{"_index":"i"}}\n{"message":"é" oops}\n\n{"create":{"_index":"i"}\n{}\n',
  );
  assert.throws(
    () => bulkBodyRecords(body, '', 100, now, new LabelSets()),
    /Malformed action\/metadata line \[4\]/,
  );
  const one = bulkBodyRecords(
    Buffer.from('{"create":{"_index":"i"}}\n{"message":"é" oops}\n'),
    '',
    100,
    now,
    new LabelSets(),
  );
  let plain = '';
  try {
    JSON.parse('{"message":"é" oops}');
  } catch (err) {
    plain = (err as Error).message;
  }
  assert.equal(one.items[0]!.error!.reason, `failed to parse: ${plain}`);
});
