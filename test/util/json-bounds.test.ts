import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkJsonBounds,
  JsonBoundsError,
  JsonBoundsScanner,
  MAX_JSON_DEPTH,
} from '../../src/util/json-bounds.js';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function refuses(
  text: string | Uint8Array,
  code: JsonBoundsError['code'],
  bounds?: Parameters<typeof checkJsonBounds>[1],
) {
  assert.throws(
    () => checkJsonBounds(text, bounds),
    (err: unknown) => err instanceof JsonBoundsError && err.code === code,
  );
}

test('1,000 levels pass, 1,001 are refused, as Elasticsearch (Jackson) does', () => {
  checkJsonBounds(nested(MAX_JSON_DEPTH));
  checkJsonBounds(Buffer.from(nested(MAX_JSON_DEPTH)));
  refuses(nested(MAX_JSON_DEPTH + 1), 'too-deep');
  refuses(`{"a":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`, 'too-deep');
  assert.throws(
    () => checkJsonBounds(nested(1001)),
    /JSON nesting depth exceeds the maximum allowed \(1000\)/,
  );
});

test('brackets inside strings do not count, escaped quotes included', () => {
  checkJsonBounds(`["${'['.repeat(5000)}"]`);
  checkJsonBounds(`["\\"${'{'.repeat(5000)}", "\\\\"]`);
  // After an escaped backslash the quote closes the string: the brackets that follow count.
  refuses(`["\\\\", ${'['.repeat(1001)}`, 'too-deep');
  // An escape of an ordinary letter ends with it: the quote after closes the string.
  refuses(`["\\n", ${'['.repeat(1001)}`, 'too-deep');
  refuses(`["\\u0022", ${'['.repeat(1001)}`, 'too-deep');
});

test('a raw newline ends a broken string, so it cannot hide what follows', () => {
  refuses(`{"a": "broken\n${'['.repeat(1001)}`, 'too-deep');
  // Depth carries across lines: a document may span them.
  refuses(`${'[\n'.repeat(1001)}`, 'too-deep');
});

test('values: containers and commas outside strings, refused beyond the limit', () => {
  const bounds = { maxDepth: 10, maxValues: 5 };
  checkJsonBounds('[1,2,3,4]', bounds); // one array, three commas
  checkJsonBounds('["a,b,c,d,e,f,g"]', bounds);
  refuses('[1,2,3,4,5,6]', 'too-many-values', bounds);
  refuses('[[],[],[]]', 'too-many-values', bounds);
});

test('chunks: state carries over, the refusal comes in the chunk that passes the bound', () => {
  const s = new JsonBoundsScanner({ maxDepth: 3, maxValues: 100 });
  s.write(Buffer.from('["[[[[ \\'));
  s.write(Buffer.from('"" ]')); // the escaped quote, then the closing one
  s.write('[[[');
  assert.throws(() => s.write(Buffer.from('[')), JsonBoundsError);
});

// Its speed is the bench's business (npm run bench: the receivers' phase), not a timed test's.
test('a 32 MB body is scanned to its end: a bomb in its last bytes is still found', () => {
  const big = Buffer.alloc(32 << 20, '{"a":"bcdefgh"}\n');
  checkJsonBounds(big, { maxDepth: 1000, maxValues: Number.POSITIVE_INFINITY });
  const bomb = Buffer.concat([big, Buffer.from('['.repeat(1001))]);
  assert.throws(
    () => checkJsonBounds(bomb, { maxDepth: 1000, maxValues: Number.POSITIVE_INFINITY }),
    (err: Error) => err instanceof JsonBoundsError && err.code === 'too-deep',
  );
});

test('the jump through strings: the same bounds whole or byte by byte, escapes and newlines at chunk edges', () => {
  const texts = [
    '{"a":"x\\"[[[","b":[1,2]}',
    '["\\\\",[["\\\\\\"]]]"]]',
    '{"m":"line one\n[[[,,,\n{"n":"\\u005b"}',
    '"no backslash anywhere in this long string [[[ ,,, ]]]", [1, [2, [3]]]',
    '{"k":"\\\\"}\n{"k":"\\n\\t[\\\\"}\n',
  ];
  for (const text of texts) {
    const bytes = Buffer.from(text);
    const deep = (limit: number, chunked: boolean) => {
      const s = new JsonBoundsScanner({ maxDepth: limit, maxValues: 1_000 });
      try {
        if (chunked) for (let i = 0; i < bytes.length; i++) s.write(bytes.subarray(i, i + 1));
        else s.write(bytes);
        return 'ok';
      } catch (err) {
        return (err as JsonBoundsError).code;
      }
    };
    for (let limit = 0; limit <= 4; limit++) {
      assert.equal(deep(limit, true), deep(limit, false), `${JSON.stringify(text)} at depth ${limit}`);
      assert.equal(deep(limit, false), deep(limit, false) === 'ok' ? 'ok' : 'too-deep');
    }
  }
  // Brackets only in strings (escaped quotes and backslashes before them): no depth at all.
  assert.doesNotThrow(() =>
    checkJsonBounds('["[[\\"[[","\\\\","\\\\\\"[["]', { maxDepth: 1, maxValues: 10 }),
  );
  assert.throws(() => checkJsonBounds('["\\\\",[]]', { maxDepth: 1, maxValues: 10 }), JsonBoundsError);
});

/** The scanner's rules byte by byte, without its shortcuts: the values it counts, or the error. */
function reference(bytes: Uint8Array, maxDepth: number, maxValues: number): string {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22 || c === 0x0a) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return 'too-deep';
      if (++values > maxValues) return 'too-many-values';
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c && ++values > maxValues) return 'too-many-values';
  }
  return 'ok';
}

test('short and long strings, escapes and broken lines scan as a byte-by-byte reading does (random texts, whole and in chunks)', () => {
  let seed = 17;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const atoms = ['"', '\\', '\n', '[', ']', '{', '}', ',', 'a', 'é', ' ', 'x'.repeat(70), '"k":"v"'];
  for (let round = 0; round < 400; round++) {
    let text = '';
    const len = 1 + rnd(120);
    for (let k = 0; k < len; k++) text += atoms[rnd(atoms.length)]!;
    const bytes = Buffer.from(text);
    const bounds = { maxDepth: 1 + rnd(6), maxValues: 1 + rnd(12) };
    const want = reference(bytes, bounds.maxDepth, bounds.maxValues);
    for (const chunks of [[bytes], [bytes.subarray(0, rnd(bytes.length)), bytes]]) {
      let got = 'ok';
      const scanner = new JsonBoundsScanner(bounds);
      try {
        if (chunks.length === 1) scanner.write(bytes);
        else {
          const cut = chunks[0]!.length;
          scanner.write(bytes.subarray(0, cut));
          scanner.write(bytes.subarray(cut));
        }
      } catch (err) {
        got = (err as JsonBoundsError).code;
      }
      assert.equal(got, want, JSON.stringify({ text, bounds, chunks: chunks.length }));
    }
  }
});
