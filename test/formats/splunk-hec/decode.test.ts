/**
 * Splunk HEC's `/event` body (formats/splunk-hec/decode.ts): JSON objects one after another. The
 * scanner that finds where each object ends jumps through strings with native searches; it must
 * split exactly where a character-by-character scan outside strings does, escapes included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeHecEvents,
  HecFormatError,
  HecLabels,
  hecRecord,
} from '../../../src/formats/splunk-hec/decode.js';

test('objects one after another, with braces, brackets, quotes and backslashes inside strings', () => {
  const events = [
    { event: 'a } b { c ] [', host: 'h1' },
    { event: 'quote " and \\" and \\\\', time: 1765000000.5 },
    { event: { message: 'ends with a backslash \\', nested: [1, { x: '}' }] }, source: 's' },
    { event: '\\\\\\"', sourcetype: 't', fields: { k: '"}{"' } },
    { event: 'unicode é ✓ 😀 and \u0001', index: 'main' },
  ];
  for (const sep of ['', '\n', ' \r\n\t ']) {
    const text = events.map((e) => JSON.stringify(e)).join(sep);
    const got = decodeHecEvents(text, 100);
    assert.equal(got.length, events.length, JSON.stringify(sep));
    assert.deepEqual(
      got.map((g) => g.event),
      events.map((e) => e.event),
    );
    assert.equal(got[1]!.timeNs, 1_765_000_000_500_000_000n);
    assert.deepEqual(got[3]!.fields, { k: '"}{"' });
  }
});

test('random events split where they were joined', () => {
  const alphabet = ['a', '"', '\\', '{', '}', '[', ']', ' ', 'é', '\n', '}{', '"}{"'];
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const str = (): string => Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
  for (let round = 0; round < 300; round++) {
    const events = Array.from({ length: 1 + rnd(6) }, () =>
      rnd(2) === 0 ? { event: `x${str()}` } : { event: { m: str(), list: [str(), { k: str() }] } },
    );
    const got = decodeHecEvents(events.map((e) => JSON.stringify(e)).join(''), 100);
    assert.deepEqual(
      got.map((g) => g.event),
      events.map((e) => e.event),
    );
    // An object event's line is its text as sent, wherever a `}{` inside a string fell.
    assert.deepEqual(
      got.map((g, i) => hecRecord(g, new HecLabels(), 1n, i).body),
      events.map((e) => (typeof e.event === 'string' ? e.event : JSON.stringify(e.event))),
    );
  }
});

test('nesting past 1,000 levels is refused however the events are joined', () => {
  const deep = `{"event":${'['.repeat(1000)}1${']'.repeat(1000)}}`;
  for (const text of [deep, `{"event":"a"}${deep}`, `${deep}{"event":"b"}`, `{"event":"a"}\n${deep}\n`]) {
    assert.throws(
      () => decodeHecEvents(text, 100),
      (err: unknown) => err instanceof HecFormatError && err.hecCode === 6 && /depth/.test(err.message),
    );
  }
  // 999 levels inside the event (1,000 with the event's object) pass.
  const ok = `{"event":${'['.repeat(999)}1${']'.repeat(999)}}`;
  assert.equal(decodeHecEvents(`${ok}{"event":"b"}`, 100).length, 2);
});

test('an object or string that does not end is refused as HEC refuses it', () => {
  for (const text of ['{"event":"a"}{"event":"b', '{"event":"a\\"}', '{"event":{"a":1}']) {
    assert.throws(() => decodeHecEvents(text, 100), /Invalid data format/, text);
  }
});

test('an event that is not a string is its JSON text as sent; nested or valued "event" is not taken for the key', () => {
  const body = [
    '{"time":1,"event":{"message":"a \\"quoted\\" line","severity":"info"},"host":"h"}',
    '{"source":"event","event" : [1, {"event":"inner"}] ,"fields":{"event":"f"}}',
    '{"event":"plain string"}',
    '{"event":{"first":1},"event":{"second":2}}',
    '{"host":"h","event":42}',
    '{"event":{"x":"\\u00e9"}}',
  ].join('\n');
  const lines = decodeHecEvents(body, 100).map((e, i) => hecRecord(e, new HecLabels(), 1n, i).body);
  assert.deepEqual(lines, [
    '{"message":"a \\"quoted\\" line","severity":"info"}',
    '[1, {"event":"inner"}]',
    'plain string',
    '{"second":2}',
    '42',
    '{"x":"\\u00e9"}',
  ]);
});
