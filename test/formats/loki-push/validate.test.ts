import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import snappy from 'snappy';
import {
  DEFAULT_PUSH_LIMITS,
  decodePushBody,
  encodePushRequest,
  groupPushErrors,
  type PushEntry,
  type PushLimits,
  type PushStream,
  parseLabels,
  validatePush,
} from '../../../src/formats/loki-push/index.js';

/** 2025-11-23T12:13:20.123456789Z */
const NOW = 1763900000123456789n;
const SECOND = 1_000_000_000n;

function stream(labels: string, entries: PushEntry[]): PushStream {
  const p = parseLabels(labels);
  return { labelsText: p.text, labels: p.labels as Record<string, string>, entries };
}

const entry = (line: string, timestamp = NOW, metadata?: Record<string, string>): PushEntry =>
  metadata ? { timestamp, line, metadata } : { timestamp, line };

const limits = (overrides: Partial<PushLimits> = {}): PushLimits => ({
  ...DEFAULT_PUSH_LIMITS,
  ...overrides,
});

test("Loki's default limits", () => {
  assert.equal(DEFAULT_PUSH_LIMITS.maxLineSize, 262144);
  assert.equal(DEFAULT_PUSH_LIMITS.maxLabelNamesPerSeries, 15);
  assert.equal(DEFAULT_PUSH_LIMITS.maxLabelNameLength, 1024);
  assert.equal(DEFAULT_PUSH_LIMITS.maxLabelValueLength, 2048);
  assert.equal(DEFAULT_PUSH_LIMITS.rejectOldSamples, true);
  assert.equal(DEFAULT_PUSH_LIMITS.rejectOldSamplesMaxAge, 7n * 24n * 3600n * SECOND);
  assert.equal(DEFAULT_PUSH_LIMITS.creationGracePeriod, 600n * SECOND);
  assert.equal(DEFAULT_PUSH_LIMITS.maxStructuredMetadataSize, 65536);
  assert.equal(DEFAULT_PUSH_LIMITS.maxStructuredMetadataEntriesCount, 128);
});

test('valid entries become records: labels, metadata as attributes, observed time = now', () => {
  const s = stream('{app="cart", namespace="shop"}', [
    entry('héllo', NOW - 5n, { trace_id: 'abc' }),
    entry('world', 1763900000000000001n),
  ]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.status, 204);
  assert.equal(v.message, '');
  assert.deepEqual(v.errors, []);
  assert.equal(v.lines, 2);
  // Bytes are UTF-8: "héllo" is 6, "world" 5, metadata "trace_id"+"abc" 11.
  assert.equal(v.bytes, 6 + 5 + 11);
  assert.equal(v.lineBytes, 6 + 5);
  assert.deepEqual(v.records[0], {
    timestamp: NOW - 5n,
    observedTimestamp: NOW,
    labels: { app: 'cart', namespace: 'shop' },
    attributes: { trace_id: 'abc' },
    body: 'héllo',
  });
  assert.equal(v.records[1]!.timestamp, 1763900000000000001n);
  assert.equal(v.records[1]!.attributes, undefined);
  assert.equal(v.records[0]!.labels, s.labels);
});

test("line too long: Loki's message names the stream; the limit counts UTF-8 bytes", () => {
  const s = stream('{app="x"}', [entry('a'.repeat(10)), entry('é'.repeat(6)), entry('b'.repeat(11))]);
  const v = validatePush([s], limits({ maxLineSize: 10 }), NOW);
  assert.equal(v.lines, 1);
  assert.deepEqual(v.errors, [
    "Max entry size '10' bytes exceeded for stream '{app=\"x\"}' while adding an entry with length '12' bytes",
    "Max entry size '10' bytes exceeded for stream '{app=\"x\"}' while adding an entry with length '11' bytes",
  ]);
  assert.equal(validatePush([s], limits({ maxLineSize: 0 }), NOW).lines, 3);
});

test('the default 256KB line limit', () => {
  const v = validatePush(
    [stream('{a="b"}', [entry('x'.repeat(262144)), entry('x'.repeat(262145))])],
    DEFAULT_PUSH_LIMITS,
    NOW,
  );
  assert.equal(v.lines, 1);
  assert.equal(v.errors.length, 1);
});

test('too many label names (a service_name label does not count)', () => {
  const names = Array.from({ length: 16 }, (_, i) => `l${String(i).padStart(2, '0')}="v"`);
  const s = stream(`{${names.join(',')}}`, [entry('x')]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.deepEqual(v.errors, [`entry for stream '${s.labelsText}' has 16 label names; limit 15`]);
  assert.equal(v.records.length, 0);
  assert.equal(v.status, 400);
  const withService = stream(`{${names.slice(1).join(',')}, service_name="svc"}`, [entry('x')]);
  assert.equal(validatePush([withService], DEFAULT_PUSH_LIMITS, NOW).status, 204);
});

test('label name too long', () => {
  const name = `n${'a'.repeat(1024)}`;
  const s = stream(`{${name}="v", app="x"}`, [entry('x')]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.deepEqual(v.errors, [`stream '{app="x", ${name}="v"}' has label name too long: '${name}'`]);
});

test('label value too long, counted in bytes', () => {
  const value = 'é'.repeat(1025); // 2050 bytes, 1025 characters
  const s = stream(`{app="${value}"}`, [entry('x')]);
  assert.deepEqual(validatePush([s], DEFAULT_PUSH_LIMITS, NOW).errors, [
    `stream '{app="${value}"}' has label value too long: '${value}'`,
  ]);
  assert.equal(
    validatePush([stream(`{app="${'é'.repeat(1024)}"}`, [entry('x')])], DEFAULT_PUSH_LIMITS, NOW).status,
    204,
  );
});

test('duplicate label names (possible in a protobuf labels string)', () => {
  const [s] = decodePushBody(
    snappy.compressSync(
      Buffer.from(encodePushRequest([{ labels: '{a="1", b="2", a="3"}', entries: [entry('x')] }])),
    ),
    'application/x-protobuf',
    undefined,
  );
  assert.deepEqual(validatePush([s!], DEFAULT_PUSH_LIMITS, NOW).errors, [
    `stream '{a="1", a="3", b="2"}' has duplicate label name: 'a'`,
  ]);
});

test('a stream without labels', () => {
  for (const labels of ['{}', '', '{a=""}']) {
    const v = validatePush([stream(labels, [entry('x')])], DEFAULT_PUSH_LIMITS, NOW);
    assert.deepEqual(v.errors, ['error at least one label pair is required per stream']);
  }
});

test("Loki's own aggregated-metric streams skip label checks", () => {
  const names = Array.from({ length: 20 }, (_, i) => `l${i}="v"`).join(',');
  const v = validatePush(
    [stream(`{__aggregated_metric__="x", ${names}}`, [entry('x')])],
    DEFAULT_PUSH_LIMITS,
    NOW,
  );
  assert.equal(v.status, 204);
});

test('entry too old (reject_old_samples_max_age), unless reject_old_samples is off', () => {
  const oldest = NOW - 7n * 24n * 3600n * SECOND;
  const s = stream('{app="x"}', [
    entry('at the limit', oldest),
    entry('too old', oldest - 1n),
    entry('1970', 0n),
  ]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.lines, 1);
  assert.deepEqual(v.errors, [
    'entry for stream \'{app="x"}\' has timestamp too old: 2025-11-16T12:13:20Z, oldest acceptable timestamp is: 2025-11-16T12:13:20Z',
    'entry for stream \'{app="x"}\' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: 2025-11-16T12:13:20Z',
  ]);
  assert.equal(validatePush([s], limits({ rejectOldSamples: false }), NOW).lines, 3);
});

test('entry too far in the future (creation_grace_period)', () => {
  const newest = NOW + 600n * SECOND;
  const s = stream('{app="x"}', [entry('at the limit', newest), entry('too new', newest + 1n)]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.lines, 1);
  assert.deepEqual(v.errors, ['entry for stream \'{app="x"}\' has timestamp too new: 2025-11-23T12:23:20Z']);
});

test('structured metadata: disallowed, too large, too many', () => {
  const s = stream('{app="x"}', [entry('m', NOW, { k: 'v' })]);
  assert.deepEqual(validatePush([s], limits({ allowStructuredMetadata: false }), NOW).errors, [
    'stream \'{app="x"}\' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.',
  ]);
  const big = stream('{app="x"}', [
    entry('m', NOW, { key: 'v'.repeat(65534) }),
    entry('ok', NOW, { key: 'v'.repeat(65533) }),
  ]);
  const v = validatePush([big], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.lines, 1);
  assert.deepEqual(v.errors, [
    "stream '{app=\"x\"}' has structured metadata too large: '65537' bytes, limit: '65536' bytes. Please see `limits_config.max_structured_metadata_size` or contact your Loki administrator to increase it.",
  ]);
  const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  assert.deepEqual(
    validatePush([stream('{app="x"}', [entry('m', NOW, many)])], DEFAULT_PUSH_LIMITS, NOW).errors,
    [
      "stream '{app=\"x\"}' has too many structured metadata labels: '129', limit: '128'. Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it.",
    ],
  );
});

test('a partly invalid push keeps its valid entries and answers 400 with the errors grouped', () => {
  const streams = [
    stream('{app="good"}', [entry('ok 1'), entry('too old', 0n), entry('too old too', 0n), entry('ok 2')]),
    stream('{}', [entry('no labels')]),
    stream('{app="other"}', [entry('ok 3')]),
  ];
  const v = validatePush(streams, DEFAULT_PUSH_LIMITS, NOW);
  assert.deepEqual(
    v.records.map((r) => r.body),
    ['ok 1', 'ok 2', 'ok 3'],
  );
  assert.equal(v.lines, 3);
  assert.equal(v.status, 400);
  assert.equal(v.errors.length, 3);
  assert.equal(
    v.message,
    '2 errors like: entry for stream \'{app="good"}\' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: 2025-11-16T12:13:20Z; 1 errors like: error at least one label pair is required per stream',
  );
});

test('no streams at all is 422, as in Loki; streams without entries are skipped quietly', () => {
  assert.deepEqual(validatePush([], DEFAULT_PUSH_LIMITS, NOW), {
    records: [],
    errors: [],
    refused: {},
    lines: 0,
    bytes: 0,
    lineBytes: 0,
    status: 422,
    message: 'error at least one valid stream is required for ingestion',
  });
  const v = validatePush([stream('{}', []), stream('{a="b"}', [])], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.status, 204);
  assert.equal(v.records.length, 0);
});

test("groupPushErrors writes Loki's GroupedErrors text", () => {
  assert.equal(groupPushErrors(['a']), 'a');
  assert.equal(groupPushErrors(['a', 'a']), '2 errors like: a');
  assert.equal(groupPushErrors(['a', 'b', 'a']), '2 errors like: a; 1 errors like: b');
});

test('decode and validate keep nanoseconds exact end to end, in both encodings', () => {
  const ts = 1763900000123456789n;
  const json = decodePushBody(
    Buffer.from(
      JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [[String(ts), 'x', { m: '1' }]] }] }),
    ),
    'application/json',
    undefined,
  );
  const proto = decodePushBody(
    snappy.compressSync(
      Buffer.from(
        encodePushRequest([
          { labels: '{a="b"}', entries: [{ timestamp: ts, line: 'x', metadata: { m: '1' } }] },
        ]),
      ),
    ),
    'application/x-protobuf',
    undefined,
  );
  for (const streams of [json, proto]) {
    const [r] = validatePush(streams, DEFAULT_PUSH_LIMITS, NOW).records;
    assert.equal(r!.timestamp, ts);
    assert.deepEqual(r!.attributes, { m: '1' });
  }
});

test('entries sharing one metadata object are each sized and limited with it', () => {
  const shared = { pod_uid: 'ü-1', restart_count: '0' }; // 7 + 4 + 13 + 1 bytes
  const big = { blob: 'x'.repeat(70_000) };
  const s = stream('{app="x"}', [
    entry('a', NOW, shared),
    entry('bb', NOW, shared),
    entry('too big', NOW, big),
    entry('ccc', NOW, shared),
    entry('dd', NOW, { other: 'é' }),
  ]);
  const v = validatePush([s], DEFAULT_PUSH_LIMITS, NOW);
  assert.equal(v.lines, 4);
  assert.equal(v.lineBytes, 1 + 2 + 3 + 2);
  assert.equal(v.bytes, 1 + 2 + 3 + 2 + 3 * 25 + (5 + 2));
  assert.equal(v.errors.length, 1);
  assert.match(v.errors[0]!, /structured metadata too large: '70004' bytes/);
});

test('refused entries are counted by reason: a stream whose labels fail counts all its entries', () => {
  const DAY = 86_400_000_000_000n;
  const v = validatePush(
    [
      stream('{a="1"}', [
        { timestamp: NOW - 8n * DAY, line: 'old' },
        { timestamp: -1n, line: 'before 1970' },
        { timestamp: NOW + DAY, line: 'new' },
        { timestamp: NOW, line: 'x'.repeat(DEFAULT_PUSH_LIMITS.maxLineSize + 1) },
        { timestamp: NOW, line: 'ok' },
      ]),
      stream('{b="1", b="2"}', [
        { timestamp: NOW, line: 'dup 1' },
        { timestamp: NOW, line: 'dup 2' },
      ]),
    ],
    DEFAULT_PUSH_LIMITS,
    NOW,
  );
  assert.equal(v.status, 400);
  assert.deepEqual(v.refused, { too_old: 2, too_new: 1, line_too_long: 1, invalid_labels: 2 });
  assert.deepEqual(
    v.records.map((r) => r.body),
    ['ok'],
  );
  assert.equal(v.errors.length, 5);
});
