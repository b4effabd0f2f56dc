import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { FormatError } from '../../../src/formats/errors.js';
import { decodePushBody, GO_ZERO_TIME_NS, type PushStream } from '../../../src/formats/loki-push/index.js';

const decode = (body: unknown): PushStream[] =>
  decodePushBody(
    Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    'application/json',
    undefined,
  );

function rejects(body: unknown, message: string | RegExp, status = 400): void {
  assert.throws(
    () => decode(body),
    (err: unknown) => {
      assert.ok(err instanceof FormatError, `expected FormatError, got ${String(err)}`);
      assert.equal(err.code, status === 413 ? 'too-large' : 'malformed'); // the API's 413 or 400
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('decodes streams, lines and exact nanosecond timestamps', () => {
  const streams = decode({
    streams: [
      {
        stream: { namespace: 'shop', app: 'cart' },
        values: [
          ['1763900000123456789', 'first'],
          ['1763900000123456790', 'second'],
        ],
      },
      { stream: { app: 'db' }, values: [['9223372036854775807', 'max int64']] },
    ],
  });
  assert.equal(streams.length, 2);
  assert.equal(streams[0]!.labelsText, '{app="cart", namespace="shop"}');
  assert.deepEqual({ ...streams[0]!.labels }, { app: 'cart', namespace: 'shop' });
  assert.equal(streams[0]!.entries[0]!.timestamp, 1763900000123456789n);
  assert.equal(streams[0]!.entries[0]!.line, 'first');
  assert.equal(streams[0]!.entries[1]!.timestamp, 1763900000123456790n);
  assert.equal(streams[1]!.entries[0]!.timestamp, 9223372036854775807n);
});

test('decodes structured metadata, the optional third element', () => {
  const [s] = decode({
    streams: [
      {
        stream: { app: 'a' },
        values: [
          ['1', 'with', { trace_id: 'abc', user: 'é' }],
          ['2', 'without'],
        ],
      },
    ],
  });
  assert.deepEqual(s!.entries[0]!.metadata, { trace_id: 'abc', user: 'é' });
  assert.equal(s!.entries[1]!.metadata, undefined);
});

test('keeps JSON string escapes and unicode in lines', () => {
  const [s] = decode('{"streams":[{"stream":{"a":"b"},"values":[["1","tab\\there \\"q\\" \\u00e9 😀"]]}]}');
  assert.equal(s!.entries[0]!.line, 'tab\there "q" é 😀');
});

test('skips null values, ignores elements after the third, accepts null "values"', () => {
  const [s, t] = decode({
    streams: [
      { stream: { a: 'b' }, values: [null, ['5', 'x', {}, 'ignored', 42]] },
      { stream: { a: 'c' }, values: null },
    ],
  });
  assert.equal(s!.entries.length, 1);
  assert.equal(s!.entries[0]!.timestamp, 5n);
  assert.equal(s!.entries[0]!.metadata, undefined);
  assert.deepEqual(t!.entries, []);
});

test('an entry without timestamp or line gets Go zero values, as in Loki', () => {
  const [s] = decode({ streams: [{ stream: { a: 'b' }, values: [[], ['7']] }] });
  assert.equal(s!.entries[0]!.timestamp, GO_ZERO_TIME_NS);
  assert.equal(s!.entries[1]!.line, '');
});

test('reads negative and zero-padded timestamps as jsonparser.ParseInt does', () => {
  const [s] = decode({
    streams: [
      {
        stream: { a: 'b' },
        values: [
          ['-1', 'x'],
          ['000123', 'y'],
        ],
      },
    ],
  });
  assert.equal(s!.entries[0]!.timestamp, -1n);
  assert.equal(s!.entries[1]!.timestamp, 123n);
});

test('takes non-string stream label values as their JSON text and a missing "stream" as no labels', () => {
  const [s, t] = decode({ streams: [{ stream: { n: 5, b: true }, values: [] }, { values: [['1', 'x']] }] });
  assert.equal(s!.labelsText, '{b="true", n="5"}');
  assert.equal(t!.labelsText, '{}');
});

test('an empty or null streams list decodes to no streams', () => {
  assert.deepEqual(decode({ streams: [] }), []);
  assert.deepEqual(decode({ streams: null }), []);
});

test('a missing "streams" field is a clear 400', () => {
  rejects(
    {},
    'error at least one valid stream is required for ingestion: the JSON body has no "streams" field',
  );
  rejects({ stream: {}, values: [] }, /no "streams" field/);
});

test("a number timestamp is refused with jsonparser's text, and says what is expected", () => {
  rejects(
    '{"streams":[{"stream":{"a":"b"},"values":[[1763900000123456789,"x"]]}]}',
    `streams[0].values[0][0]: Value is string, but can't find closing '"' symbol (the timestamp must be a string of nanoseconds, got a number)`,
  );
});

test('every malformed JSON push fails with 400 and names what is wrong and where', () => {
  rejects('{"streams": [', /^invalid JSON in push request: /);
  rejects('', /^invalid JSON in push request: /);
  rejects('[]', 'a push request is a JSON object {"streams": [...]}, got an array');
  rejects('"x"', 'a push request is a JSON object {"streams": [...]}, got a string');
  rejects({ streams: {} }, '"streams" must be an array of streams, got an object');
  rejects({ streams: [null] }, /^streams\[0\]: Value looks like object, but can't find closing '}' symbol/);
  rejects({ streams: [{ stream: 'app=x', values: [] }] }, /^streams\[0\]\.stream: Value looks like object/);
  rejects(
    { streams: [{ stream: { a: 'b' }, values: {} }] },
    /^streams\[0\]\.values: Value is array, but can't find/,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: ['1', 'x'] }] },
    /^streams\[0\]\.values\[0\]: Value is array/,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['12x', 'x']] }] },
    `streams[0].values[0][0]: Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol (the timestamp "12x" is not an integer of nanoseconds)`,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['', 'x']] }] },
    /^streams\[0\]\.values\[0\]\[0\]: Value looks like Number/,
  );
  rejects({ streams: [{ stream: { a: 'b' }, values: [['1.5', 'x']] }] }, /not an integer of nanoseconds/);
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['9223372036854775808', 'x']] }] },
    /^streams\[0\]\.values\[0\]\[0\]: Value is number, but overflowed while parsing/,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['1', 42]] }] },
    `streams[0].values[0][1]: Value is string, but can't find closing '"' symbol (the log line must be a string, got a number)`,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['1', 'x', 'meta']] }] },
    /^streams\[0\]\.values\[0\]\[2\]: Value looks like object, .*structured metadata must be an object of strings, got a string/,
  );
  rejects(
    { streams: [{ stream: { a: 'b' }, values: [['1', 'x', { n: 1 }]] }] },
    /^streams\[0\]\.values\[0\]\[2\]\.n: Value is string, .*structured metadata values must be strings, got a number/,
  );
  rejects(
    {
      streams: [
        {
          stream: { a: 'b' },
          values: [
            ['1', 'x'],
            ['2', 'y', ['z']],
          ],
        },
      ],
    },
    /^streams\[0\]\.values\[1\]\[2\]: .*got an array/,
  );
});

test('a stream label name Loki cannot parse fails the whole request as in Loki', () => {
  rejects(
    { streams: [{ stream: { 'foo.bar': 'x' }, values: [['1', 'x']] }] },
    "couldn't parse labels: 1:5: parse error: unexpected character inside braces: '.'",
  );
});
