import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type JsonText, jsonText, parseJsonBody } from '../../src/util/json-text.js';

/** What JSON.parse of the plain UTF-8 decoding gives: a value, or the error's class. */
function plainParse(body: Buffer): unknown {
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

function textParse(body: Buffer): unknown {
  try {
    return { value: JSON.parse(jsonText(body).text) };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

const plainOf = (t: JsonText) => ({ text: t.text, escaped: t.escaped });

const isOneByte = (s: string) => [...s].every((c) => c.charCodeAt(0) < 0x80);

test('an ASCII body is its text as it is', () => {
  const body = Buffer.from('{"a":"b\\u00e9","n":[1,2]}');
  assert.deepEqual(plainOf(jsonText(body)), { text: body.toString(), escaped: false });
});

test('non-ASCII text is escaped: the text is ASCII and parses to the same value', () => {
  const doc = {
    msg: 'héllo wörld — 日本語 ✓ 🚀',
    'clé 🔑': ['ü', { ß: 'ǅ' }],
    plain: 'x'.repeat(10_000),
  };
  const body = Buffer.from(JSON.stringify(doc));
  const { text, escaped } = jsonText(body);
  assert.equal(escaped, true);
  assert.ok(isOneByte(text));
  assert.deepEqual(JSON.parse(text), doc);
  // Runs across the 4 KiB blocks checked at once.
  const long = Buffer.from(JSON.stringify({ a: `${'x'.repeat(4093)}éé${'y'.repeat(5000)}ü` }));
  assert.deepEqual(JSON.parse(jsonText(long).text), JSON.parse(long.toString()));
});

test('invalid UTF-8 becomes U+FFFD exactly as a decoding of the whole body does', () => {
  const parts = [
    Buffer.from(`{"pad":"${'x'.repeat(3000)}","a":"`),
    Buffer.from([0xc3]), // truncated two-byte sequence before ASCII
    Buffer.from('x'),
    Buffer.from([0xe6, 0x97]), // truncated three-byte sequence
    Buffer.from([0xff, 0xfe, 0x80]), // never valid
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
    Buffer.from([0xf0, 0x9f, 0x9a, 0x80]), // a whole four-byte sequence
    Buffer.from('"}'),
  ];
  const body = Buffer.concat(parts);
  assert.deepEqual(textParse(body), plainParse(body));
  assert.equal(jsonText(body).escaped, true);
});

test('where escaping could change the meaning, the body is decoded as it is', () => {
  // After a backslash: `\é` is not JSON, but `\\u00e9` would be.
  for (const raw of ['{"a":"\\é"}', '{"a":"\\\\é"}']) {
    const body = Buffer.from(raw);
    assert.deepEqual(plainOf(jsonText(body)), { text: raw, escaped: false });
    assert.deepEqual(textParse(body), plainParse(body));
  }
  // Mostly non-ASCII text: six characters per unit would be far larger than the body.
  const cjk = Buffer.from(JSON.stringify({ a: '日本語'.repeat(1000) }));
  assert.equal(jsonText(cjk).escaped, false);
  assert.deepEqual(JSON.parse(jsonText(cjk).text), JSON.parse(cjk.toString()));
});

test('non-ASCII text outside strings stays an error', () => {
  for (const raw of ['{"a":é}', 'é', '{é:1}', '\ufeff{"a":1}', '{"a":"\\u00é9"}', '[1é]']) {
    const body = Buffer.from(raw);
    assert.deepEqual(textParse(body), plainParse(body), raw);
    assert.deepEqual(plainParse(body), { error: 'SyntaxError' }, raw);
  }
});

test('random bodies parse as their UTF-8 decoding does (valid or not)', () => {
  const pieces = ['{', '}', '[', ']', '"', ':', ',', '\\', 'a', '1', ' ', 'é', '日', '🚀', '\\u', 'n', '\n'];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let valid = 0;
  let escaped = 0;
  // Leading white space, so that what escapes write fits the growth allowed.
  for (let i = 0; i < 3000; i++) {
    let raw: string;
    if (i % 3 === 0) {
      // Valid documents with non-ASCII keys and values.
      const v: Record<string, string> = {};
      for (let k = rand(5); k >= 0; k--)
        v[pieces[rand(pieces.length)]!.repeat(rand(3) + 1)] = pieces.slice(rand(10)).join('');
      raw = JSON.stringify(v);
    } else {
      raw = Array.from({ length: rand(30) }, () => pieces[rand(pieces.length)]).join('');
    }
    const bytes = Buffer.from(' '.repeat(1200) + raw);
    // Now and then a byte of a sequence dropped: invalid UTF-8.
    const cut = 1200 + rand(Math.max(1, bytes.length - 1200));
    const body = i % 5 === 0 ? Buffer.concat([bytes.subarray(0, cut), bytes.subarray(cut + 1)]) : bytes;
    if (jsonText(body).escaped) escaped++;
    const want = plainParse(body);
    assert.deepEqual(textParse(body), want, JSON.stringify(body.toString('latin1')));
    if ((want as { value?: unknown }).value !== undefined) valid++;
  }
  assert.ok(valid > 700, `valid documents among them: ${valid}`);
  assert.ok(escaped > 1500, `bodies escaped: ${escaped}`);
});

test("parseJsonBody: a body that does not parse throws the plain decoding's error (its positions)", () => {
  const body = Buffer.from(`{"pad":"${'x'.repeat(300)}","msg":"héllo" oops}`);
  assert.equal(jsonText(body).escaped, true);
  assert.throws(
    () => parseJsonBody(body),
    (err: unknown) => {
      assert.ok(err instanceof SyntaxError);
      assert.throws(() => JSON.parse(body.toString()), { message: err.message });
      assert.match(err.message, /position 324/);
      return true;
    },
  );
  assert.deepEqual(parseJsonBody(Buffer.from(`{"msg":"héllo"}${' '.repeat(100)}`)), { msg: 'héllo' });
});

test("original: the body's own text of a part of the escaped text, wherever the runs fall", () => {
  const parts = ['{"a":"é', `${'x'.repeat(500)}","b":{"c":"日本 \\u00e9"},"d":[1,"`, '🚀ü', '"]}'];
  const raw = parts.join('');
  const body = Buffer.from(raw);
  const t = jsonText(body);
  assert.equal(t.escaped, true);
  // Every span between structural characters (outside strings) maps back to the same text.
  const stops = (s: string) => [...s.matchAll(/[{}[\],:]/g)].map((m) => m.index!);
  const inText = stops(t.text);
  const inRaw = stops(raw);
  assert.equal(inText.length, inRaw.length);
  for (let i = 0; i < inText.length; i++) {
    for (let j = i; j < inText.length; j++) {
      assert.equal(t.original(inText[i]!, inText[j]! + 1), raw.slice(inRaw[i]!, inRaw[j]! + 1));
    }
  }
});
