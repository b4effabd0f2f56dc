/**
 * The write-ahead log's attributes field (store/duckdb/wal/encode.ts attributesText): written by
 * hand for speed, it must be exactly the JSON text of the well-formed attributes, and say whether
 * it is ASCII (the line's head is then written as Latin-1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributesText, WalLines } from '../../../../src/store/duckdb/wal/encode.js';

const reference = (a: Record<string, string>): string => {
  if (Object.keys(a).length === 0) return '';
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) clean[k.toWellFormed()] = v.toWellFormed();
  return JSON.stringify(clean);
};

test('attributesText is the JSON of the well-formed attributes, in their order', () => {
  const cases: Record<string, string>[] = [
    {},
    { severity_text: 'INFO', observed_timestamp: '1765000000000000001' },
    { 'k"q': 'v\\b', tab: 'a\tb', nl: 'x\ny\r', nul: '\u0000\u001f', del: '\u007f' },
    { é: 'ünïcode ✓', emoji: '😀', lone: 'a\ud800b', loneKey: 'x' },
    { '\udc00': 'lone key' },
    { 1: 'integer-like key first', a: '', 0: 'zero' },
  ];
  for (const a of cases) {
    const { text, ascii } = attributesText(a);
    assert.equal(text, reference(a), JSON.stringify(a));
    if (text !== '') assert.deepEqual(JSON.parse(text), JSON.parse(reference(a)));
    // ASCII claimed only when it is: a Latin-1 write of non-ASCII text would corrupt the line.
    if (ascii) assert.match(text, /^[\x20-\x7e]*$/);
  }
  // Random strings over the characters that matter.
  const alphabet = [
    'a',
    'Z',
    ' ',
    '"',
    '\\',
    '\n',
    '\u0001',
    '\u001f',
    '~',
    '\u007f',
    'é',
    '\ud800',
    '\udfff',
    '😀',
  ];
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const str = (): string => Array.from({ length: rnd(6) }, () => alphabet[rnd(alphabet.length)]).join('');
  for (let i = 0; i < 2000; i++) {
    const a: Record<string, string> = {};
    for (let j = rnd(4); j >= 0; j--) a[`${str()}${j}`] = str();
    const { text, ascii } = attributesText(a);
    assert.equal(text, reference(a));
    if (ascii) assert.match(text, /^[\x20-\x7e]*$/);
  }
});

test('WalLines: interleaved shared attributes objects (more than it remembers) write the same lines as an object per line', () => {
  const sets = Array.from({ length: 20 }, (_, i) => ({ unit: `u${i}.service`, host: i % 2 ? 'h' : 'hé' }));
  const order = Array.from({ length: 400 }, (_, i) => (i * 7 + (i % 3)) % sets.length);
  const shared = new WalLines(0, 1024);
  const fresh = new WalLines(0, 1024);
  order.forEach((s, n) => {
    shared.add(1n, n + 1, BigInt(n), 5n, sets[s]!, `line ${n}`);
    fresh.add(1n, n + 1, BigInt(n), 5n, { ...sets[s]! }, `line ${n}`);
  });
  assert.ok(shared.bytes.equals(fresh.bytes));
  assert.match(shared.bytes.toString('utf8'), /"unit":"u19.service","host":"h"/);
});

test('WalLines: shared objects at changing observed times, bodies escaped or not, none at all: the lines of objects of their own', () => {
  const sets = Array.from({ length: 20 }, (_, i) => ({ unit: `u${i}` }));
  const shared = new WalLines(0, 1024);
  const fresh = new WalLines(0, 1024);
  for (let n = 0; n < 600; n++) {
    const observed = BigInt(Math.floor(n / 50) % 3);
    const body = n % 7 === 0 ? `two\nlines ${n}` : `line ${n}`;
    const s = n % 11 === 0 ? {} : sets[(n * 7) % sets.length]!;
    shared.add(BigInt(n % 2), n + 1, BigInt(n), observed, s, body);
    fresh.add(BigInt(n % 2), n + 1, BigInt(n), observed, { ...s }, body);
  }
  assert.ok(shared.bytes.equals(fresh.bytes));
  const lines = shared.bytes.toString('utf8').split('\n');
  assert.equal(lines[0], '0\x1f0\x1f1\x1f0\x1f0\x1f\x1f1\x1f"two\\nlines 0"');
  assert.equal(lines[599], `0\x1f1\x1f600\x1f599\x1f2\x1f{"unit":"u${(599 * 7) % 20}"}\x1f0\x1fline 599`);
});
