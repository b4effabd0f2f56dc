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

test('export format: fields in another order than the entry before, names that start alike, bad names after good ones', () => {
  const text = Buffer.concat([
    Buffer.from('MESSAGE=one\nMESSAGE_ID=m1\nA=1\n\n'),
    Buffer.from('MESSAGE_ID=m2\nMESSAGE=two\nA=2\n\n'),
    Buffer.from('MESSAGE=three\nMESSAGE_IDX=x\n'),
    binary('A', Buffer.from('3')),
    Buffer.from('\n'),
    Buffer.from('MESSAGE=four\nMESSAGE_I D=bad\n\n'),
    binary('MESSAGE', Buffer.from('fi\nve')),
    Buffer.from('\n'),
    Buffer.from('MESSAGE=six\n=empty name\n\n'),
    Buffer.from('MESSAGE=seven\n\n'),
  ]);
  const want = [
    { MESSAGE: 'one', MESSAGE_ID: 'm1', A: '1' },
    { MESSAGE_ID: 'm2', MESSAGE: 'two', A: '2' },
    { MESSAGE: 'three', MESSAGE_IDX: 'x', A: '3' },
    { corrupt: 'bad field name "MESSAGE_I D"' },
    { MESSAGE: 'fi\nve' },
    { corrupt: 'bad field name ""' },
    { MESSAGE: 'seven' },
  ];
  for (let cut = 0; cut < text.length; cut++) {
    const p = new ExportParser();
    const got = [...p.push(text.subarray(0, cut)), ...p.push(text.subarray(cut)), ...p.end()];
    assert.deepEqual(entries(got), want, `cut at ${cut}`);
  }
});

test('export format: `keep` returns only those fields, every field still checked; an entry of left-out fields is an entry', () => {
  const p = new ExportParser({ keep: new Set(['MESSAGE']) });
  const items = p.push(
    Buffer.concat([
      Buffer.from('__CURSOR=c1\nMESSAGE=kept\n'),
      binary('BIN', Buffer.from('a\nb')),
      Buffer.from('\n__CURSOR=c2\n\n__CURSOR=c3\nbad-name=x\nMESSAGE=no\n\n'),
    ]),
  );
  assert.deepEqual(entries(items), [{ MESSAGE: 'kept' }, {}, { corrupt: 'bad field name "bad-name"' }]);
});

test('export format: the largest entry a push touched, however the stream is cut', () => {
  const one = Buffer.from('MESSAGE=a\n\n'); // 11 bytes
  const big = Buffer.concat([Buffer.from('MESSAGE='), Buffer.alloc(100, 0x62), Buffer.from('\n\n')]); // 110
  const text = Buffer.concat([one, big, one, one]);
  for (let cut = 1; cut < text.length; cut++) {
    const p = new ExportParser();
    p.push(text.subarray(0, cut));
    const first = p.largestEntry;
    p.push(text.subarray(cut));
    const second = p.largestEntry;
    // The big entry is seen whole by the push that completes it, or in part by the one before.
    assert.ok(Math.max(first, second) >= (cut < 11 + 110 ? 110 : Math.min(cut - 11, 110)), `cut at ${cut}`);
    assert.ok(first <= 110 && second <= 110, `cut at ${cut}: ${first} ${second}`);
    if (cut > 11 && cut < 121) assert.equal(second, 110, `cut at ${cut}: completed by the second push`);
  }
  const p = new ExportParser();
  p.push(Buffer.concat([one, big.subarray(0, 50)]));
  assert.equal(p.largestEntry, 50, 'an open entry counts what has come of it');
  p.push(big.subarray(50, 60));
  assert.equal(p.largestEntry, 60);
  p.push(Buffer.concat([big.subarray(60), one]));
  assert.equal(p.largestEntry, 110);
});
