import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExportItem, ExportParser } from '../../src/formats/journal-export.js';

function binary(name: string, value: Buffer): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, value, Buffer.from('\n')]);
}

const stream = Buffer.concat([
  Buffer.from('__CURSOR=c1\nMESSAGE=plain = text\n'),
  binary('BIN', Buffer.from('a\nb\n\nc=d')),
  Buffer.from('\n'),
  Buffer.from('__CURSOR=c2\n'),
  binary('MESSAGE', Buffer.from([0x68, 0x69, 0xff])),
  Buffer.from('\n'),
]);

const entries = (items: ExportItem[]) =>
  items.map((i) => ('entry' in i ? Object.fromEntries(i.entry) : { corrupt: i.corrupt }));

test('export format: text and binary-safe fields, entries split at any byte', () => {
  const want = [
    { __CURSOR: 'c1', MESSAGE: 'plain = text', BIN: 'a\nb\n\nc=d' },
    { __CURSOR: 'c2', MESSAGE: 'hi\uFFFD' },
  ];
  assert.deepEqual(entries(new ExportParser().push(stream)), want);
  for (let cut = 1; cut < stream.length; cut++) {
    const p = new ExportParser();
    const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut)), ...p.end()];
    assert.deepEqual(entries(got), want, `cut at ${cut}`);
  }
});

test('export format: a broken frame makes its entry corrupt, the next one is read', () => {
  const p = new ExportParser();
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(2n);
  const items = [
    ...p.push(Buffer.from('__CURSOR=c1\nMESSAGE\n')),
    ...p.push(Buffer.concat([size, Buffer.from('abc\n\nbad name!=x\n\n__CURSOR=c3\n\n')])),
    ...p.push(Buffer.from('__CURSOR=c4\nMESSAGE=partial')),
    ...p.end(),
  ];
  assert.deepEqual(entries(items), [
    { corrupt: 'field MESSAGE: 2 bytes not followed by a newline' },
    { corrupt: 'bad field name "bad name!"' },
    { __CURSOR: 'c3' },
    { corrupt: 'stream ended inside a field' },
  ]);
});
