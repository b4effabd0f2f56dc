import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { auditParser } from '../../src/formats/audit.js';
import { criParser } from '../../src/formats/cri.js';
import { dockerParser } from '../../src/formats/docker.js';
import { eventsParser } from '../../src/formats/events.js';
import { jsonLinesParser } from '../../src/formats/jsonlines.js';
import { logfmtParser, parseLogfmt } from '../../src/formats/logfmt.js';
import { parseRfc3339Fast, parseTimeValue } from '../../src/formats/time-value.js';
import { parseRfc3339Nano } from '../../src/model/time.js';
import { fixture, NOW, parse, utcNs } from '../import/helpers.js';

const POD = { namespace: 'shop', pod: 'web-1', container: 'app', uid: 'u-1', restartCount: 2 };

describe('cri', () => {
  it('reads 0 and 9 fraction digits, offsets, both streams, with pod labels and attributes', () => {
    const r = parse(
      criParser,
      [
        '2026-11-23T10:00:00Z stdout F no fraction',
        '2026-11-23T10:00:00.123456789Z stderr F nine digits',
        '2026-11-23T12:00:00.5+02:00 stdout F offset +02:00',
        '2026-11-23T04:30:00.000001-05:30 stdout F offset -05:30',
        '2026-11-23T10:00:01Z stdout F ',
        '2026-11-23T10:00:02Z stdout F',
        '2026-11-23T10:00:03Z stdout F  two  spaces kept\r',
      ],
      { pod: POD },
    );
    assert.deepEqual(r.malformed, []);
    assert.deepEqual(
      r.entries.map((e) => [e.ts, e.labels.stream, e.line]),
      [
        [utcNs(2026, 11, 23, 10, 0, 0), 'stdout', 'no fraction'],
        [utcNs(2026, 11, 23, 10, 0, 0, 123456789n), 'stderr', 'nine digits'],
        [utcNs(2026, 11, 23, 10, 0, 0, 500000000n), 'stdout', 'offset +02:00'],
        [utcNs(2026, 11, 23, 10, 0, 0, 1000n), 'stdout', 'offset -05:30'],
        [utcNs(2026, 11, 23, 10, 0, 1), 'stdout', ''],
        [utcNs(2026, 11, 23, 10, 0, 2), 'stdout', ''],
        [utcNs(2026, 11, 23, 10, 0, 3), 'stdout', ' two  spaces kept\r'],
      ],
    );
    const e = r.entries[1]!;
    assert.deepEqual(e.labels, {
      kind: 'containerlog',
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      stream: 'stderr',
    });
    assert.deepEqual(e.attributes, { pod_uid: 'u-1', restart_count: '2' });
    // One labels object per stream, so batching groups cheaply.
    assert.equal(r.entries[0]!.labels, r.entries[2]!.labels);
  });

  it('joins P pieces per stream until F, at the time of the first piece', () => {
    const r = parse(criParser, [
      '2026-11-23T10:00:00.1Z stdout P hello ',
      '2026-11-23T10:00:00.2Z stderr F err line',
      '2026-11-23T10:00:00.3Z stdout P big ',
      '2026-11-23T10:00:00.4Z stdout F world',
      '2026-11-23T10:00:00.5Z stdout F next',
      '2026-11-23T10:00:00.6Z stderr P cut at end of file',
    ]);
    assert.deepEqual(
      r.entries.map((e) => [e.ts, e.labels.stream, e.line]),
      [
        [utcNs(2026, 11, 23, 10, 0, 0, 200000000n), 'stderr', 'err line'],
        [utcNs(2026, 11, 23, 10, 0, 0, 100000000n), 'stdout', 'hello big world'],
        [utcNs(2026, 11, 23, 10, 0, 0, 500000000n), 'stdout', 'next'],
        [utcNs(2026, 11, 23, 10, 0, 0, 600000000n), 'stderr', 'cut at end of file'],
      ],
    );
    assert.equal(r.entries[0]!.attributes, undefined);
    assert.deepEqual(r.entries[0]!.labels, { kind: 'containerlog', stream: 'stderr' });
  });

  it('reports malformed lines by number and goes on', () => {
    const r = parse(criParser, [
      '2026-11-23T10:00:00Z stdout F ok',
      'garbage',
      'yesterday stdout F bad time',
      '2026-11-23T10:00:00Z stdin F bad stream',
      '2026-11-23T10:00:00Z stdout X bad tag',
      '2026-11-23T10:00:01Z stdout F still ok',
      '2026-11-23T10:00:02Z stdout FP two-letter tag',
      '2026-11-23T10:00:03Z stdoutx F longer stream',
      '2026-11-23T10:00:04Z stdout  empty tag',
      '2026-11-23T10:00:05Z stderr F:x tag with more after a colon',
      '2026-11-23T10:00:06Z stdout F',
    ]);
    assert.deepEqual(
      r.entries.map((e) => e.line),
      ['ok', 'still ok', 'tag with more after a colon', ''],
    );
    assert.deepEqual(
      r.malformed.map((m) => m.lineNo),
      [2, 3, 4, 5, 7, 8, 9],
    );
    assert.match(r.malformed[1]!.reason, /bad CRI timestamp/);
    assert.match(r.malformed[2]!.reason, /bad CRI stream "stdin"/);
    assert.match(r.malformed[4]!.reason, /bad CRI tag "FP"/);
    assert.match(r.malformed[5]!.reason, /bad CRI stream "stdoutx"/);
  });
});

describe('docker json-file', () => {
  it('strips the newline, joins split lines per stream, keeps nanoseconds', () => {
    const r = parse(
      dockerParser,
      [
        '{"log":"one\\n","stream":"stdout","time":"2026-11-23T10:00:00.123456789Z"}',
        '{"log":"part a ","stream":"stderr","time":"2026-11-23T10:00:01.000000001Z"}',
        '{"log":"two\\n","stream":"stdout","time":"2026-11-23T10:00:01.5Z"}',
        '{"log":"part b\\n","stream":"stderr","time":"2026-11-23T10:00:02Z"}',
        '{"log":"no time"}',
        '{"log":"x\\n","stream":"stdout","time":"2026-11-23T12:00:00+02:00"}',
      ],
      { pod: POD },
    );
    assert.deepEqual(
      r.entries.map((e) => [e.ts, e.labels.stream, e.line]),
      [
        [utcNs(2026, 11, 23, 10, 0, 0, 123456789n), 'stdout', 'one'],
        [utcNs(2026, 11, 23, 10, 0, 1, 500000000n), 'stdout', 'two'],
        [utcNs(2026, 11, 23, 10, 0, 1, 1n), 'stderr', 'part a part b'],
        [utcNs(2026, 11, 23, 10, 0, 0), 'stdout', 'x'],
      ],
    );
    assert.deepEqual(
      r.malformed.map((m) => m.lineNo),
      [5],
    );
    assert.equal(r.entries[0]!.labels.container, 'app');
  });
});

describe('audit', () => {
  const lines = readFileSync(fixture('audit.jsonl'), 'utf8').split('\n').filter(Boolean);

  it('takes stageTimestamp exactly, keeps the line as body, and the listed attributes', () => {
    const r = parse(auditParser, lines);
    assert.deepEqual(r.malformed, []);
    assert.deepEqual(
      r.entries.map((e) => e.ts),
      [
        utcNs(2026, 11, 23, 10, 0, 0, 123456000n),
        utcNs(2026, 11, 23, 10, 0, 1, 987654321n),
        utcNs(2026, 11, 23, 10, 0, 2),
      ],
    );
    assert.equal(r.entries[0]!.line, lines[0]);
    assert.deepEqual(r.entries[0]!.labels, { kind: 'auditevent', class: 'audit' });
    assert.deepEqual(r.entries[0]!.attributes, {
      auditID: '0f8b7ff4-3c4e-4b4e-9f34-5b0e2b1c9a01',
      stage: 'ResponseComplete',
      verb: 'list',
      level: 'Metadata',
      user_username: 'system:admin',
      objectRef_resource: 'pods',
      objectRef_namespace: 'default',
      responseStatus_code: '200',
    });
    assert.equal(r.entries[1]!.attributes?.objectRef_name, 'db');
    assert.equal(r.entries[1]!.attributes?.responseStatus_code, '403');
    // Only what is present.
    assert.deepEqual(r.entries[2]!.attributes, {
      auditID: '0f8b7ff4-3c4e-4b4e-9f34-5b0e2b1c9a03',
      stage: 'RequestReceived',
      verb: 'get',
      level: 'Metadata',
      user_username: 'system:anonymous',
    });
  });

  it('takes an audit EventList apart and reports broken lines', () => {
    const list = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      items: [JSON.parse(lines[0]!), { kind: 'Event', auditID: 'x' }],
    });
    const r = parse(auditParser, [list, '{"kind":"Event", truncated']);
    assert.equal(r.entries.length, 1);
    assert.deepEqual(JSON.parse(r.entries[0]!.line), JSON.parse(lines[0]!));
    assert.deepEqual(r.malformed, [
      { lineNo: 1, reason: 'items[1]: audit event without a valid stageTimestamp' },
      { lineNo: 2, reason: 'not a JSON object' },
    ]);
  });
});

describe('events', () => {
  it('reads eventrouter lines: namespace of the involved object, newest time, attributes', () => {
    const lines = readFileSync(fixture('eventrouter.jsonl'), 'utf8').split('\n');
    const r = parse(eventsParser, lines);
    assert.deepEqual(r.malformed, [{ lineNo: 3, reason: 'not a JSON object' }]);
    assert.equal(r.entries.length, 3);
    const [a, b, c] = r.entries;
    assert.deepEqual(a!.labels, { kind: 'event', namespace: 'shop' });
    assert.equal(a!.ts, utcNs(2026, 11, 23, 9, 59, 0));
    assert.deepEqual(a!.attributes, {
      reason: 'Scheduled',
      type: 'Normal',
      regarding_kind: 'Pod',
      regarding_name: 'web-1',
      event_uid: 'e-uid-1',
      resourceVersion: '1001',
      count: '1',
    });
    // The body is the event itself, not the eventrouter wrapper.
    assert.equal(JSON.parse(a!.line).reason, 'Scheduled');
    assert.equal(JSON.parse(a!.line).verb, undefined);
    assert.equal(b!.ts, utcNs(2026, 11, 23, 10, 4, 10), 'lastTimestamp is newer than firstTimestamp');
    assert.equal(b!.attributes?.count, '7');
    // A Node's event has no namespace of its own.
    assert.deepEqual(c!.labels, { kind: 'event' });
  });

  it('reads a pretty-printed List with core and events.k8s.io events', () => {
    const lines = readFileSync(fixture('events-list.json'), 'utf8').split('\n');
    const r = parse(eventsParser, lines);
    assert.equal(r.entries.length, 2);
    const [core, v1] = r.entries;
    assert.equal(core!.ts, utcNs(2026, 11, 23, 8, 30, 0));
    assert.equal(JSON.parse(core!.line).reason, 'ScalingReplicaSet');
    assert.doesNotMatch(core!.line, /\n/);
    assert.deepEqual(core!.labels, { kind: 'event', namespace: 'shop' });
    assert.equal(core!.attributes?.regarding_kind, 'Deployment');
    assert.equal(v1!.ts, utcNs(2026, 11, 23, 8, 45, 0, 654321000n), 'series.lastObservedTime is the newest');
    assert.deepEqual(v1!.attributes, {
      reason: 'Unhealthy',
      type: 'Warning',
      regarding_kind: 'Pod',
      regarding_name: 'web-2',
      event_uid: 'list-uid-2',
      resourceVersion: '2002',
      count: '5',
    });
    assert.deepEqual(r.malformed, [{ lineNo: 1, reason: 'items[2]: event without a timestamp' }]);
  });

  it('reads one-line events and EventLists, keeping a one-line event as written', () => {
    const ev =
      '{"kind":"Event","apiVersion":"v1","metadata":{"uid":"u"},"involvedObject":{"kind":"Pod","name":"p","namespace":"n"},"reason":"R","lastTimestamp":"2026-11-23T10:00:00Z"}';
    const list = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'v1',
      items: [JSON.parse(ev), { kind: 'Pod' }],
    });
    const watch = JSON.stringify({ type: 'ADDED', object: JSON.parse(ev) });
    const r = parse(eventsParser, [
      ev,
      list,
      watch,
      '{"kind":"Pod"}',
      '{',
      '  "kind": "Event",',
      '  "x": "unterminated',
      '}',
    ]);
    assert.equal(r.entries.length, 3);
    assert.equal(r.entries[0]!.line, ev);
    assert.deepEqual(
      r.malformed.map((m) => [m.lineNo, m.reason]),
      [
        [2, 'items[1]: not a Kubernetes event'],
        [4, 'not a Kubernetes event'],
        [5, 'broken JSON object (unterminated string on line 7)'],
        [8, 'not a JSON object'],
      ],
    );
  });
});

describe('json lines and logfmt', () => {
  it('json: time from time/timestamp/ts/@timestamp, else import time plus line number', () => {
    const r = parse(jsonLinesParser, [
      '{"time":"2026-11-23T10:00:00.5Z","msg":"a"}',
      '{"timestamp":"2026-11-23T12:00:00+02:00","msg":"b"}',
      '{"ts":1795428000.25,"msg":"zap seconds"}',
      '{"@timestamp":"2026-11-23T10:00:00.000000001Z"}',
      '{"time":1795428000123,"msg":"pino ms"}',
      '{"msg":"no time"}',
      '{"time":"whenever"}',
      'not json',
    ]);
    assert.deepEqual(
      r.entries.map((e) => e.ts),
      [
        utcNs(2026, 11, 23, 10, 0, 0, 500000000n),
        utcNs(2026, 11, 23, 10, 0, 0),
        1795428000250000000n,
        utcNs(2026, 11, 23, 10, 0, 0, 1n),
        1795428000123000000n,
        NOW + 6n,
      ],
    );
    assert.equal(r.entries[0]!.line, '{"time":"2026-11-23T10:00:00.5Z","msg":"a"}');
    assert.deepEqual(r.entries[0]!.labels, {});
    assert.deepEqual(r.malformed, [
      { lineNo: 7, reason: 'unreadable time in "time"' },
      { lineNo: 8, reason: 'not a JSON object' },
    ]);
  });

  it('logfmt: quoted values, time keys, plain text still loads', () => {
    assert.deepEqual(
      [...parseLogfmt('level=info msg="hello \\"you\\"" ts=2026-11-23T10:00:00Z flag')],
      [
        ['level', 'info'],
        ['msg', 'hello "you"'],
        ['ts', '2026-11-23T10:00:00Z'],
        ['flag', ''],
      ],
    );
    // Escapes between runs of plain text, a backslash at the end, a quote left open, empty values.
    assert.deepEqual(
      [...parseLogfmt('a="x\\ny\\tz\\\\w" b="open \\')],
      [
        ['a', 'x\ny\tz\\w'],
        ['b', 'open \\'],
      ],
    );
    assert.deepEqual([...parseLogfmt('k="unterminated value')], [['k', 'unterminated value']]);
    assert.deepEqual(
      [...parseLogfmt('k="" e="\\""')],
      [
        ['k', ''],
        ['e', '"'],
      ],
    );
    const r = parse(logfmtParser, [
      'level=info ts=2026-11-23T10:00:00.25Z msg="x"',
      'time="2026-11-23 10:00:00.5+00:00" msg=y',
      'just some text\r',
      'time=garbage msg=z',
    ]);
    assert.deepEqual(
      r.entries.map((e) => [e.ts, e.line]),
      [
        [utcNs(2026, 11, 23, 10, 0, 0, 250000000n), 'level=info ts=2026-11-23T10:00:00.25Z msg="x"'],
        [utcNs(2026, 11, 23, 10, 0, 0, 500000000n), 'time="2026-11-23 10:00:00.5+00:00" msg=y'],
        [NOW + 3n, 'just some text'],
      ],
    );
    assert.deepEqual(r.malformed, [{ lineNo: 4, reason: 'unreadable time in "time"' }]);
  });

  it('epoch numbers by size', () => {
    assert.equal(parseTimeValue('1795428000'), 1795428000000000000n);
    assert.equal(parseTimeValue('1795428000123'), 1795428000123000000n);
    assert.equal(parseTimeValue('1795428000123456'), 1795428000123456000n);
    assert.equal(parseTimeValue('1795428000123456789'), 1795428000123456789n);
    assert.equal(parseTimeValue('1795428000.000000001'), 1795428000000000001n);
    assert.equal(parseTimeValue(''), undefined);
    assert.equal(parseTimeValue(true), undefined);
  });
});

describe('fast RFC 3339', () => {
  it('agrees with parseRfc3339Nano, across seconds and shapes', () => {
    for (const t of [
      '2026-11-23T10:00:00Z',
      '2026-11-23T10:00:00.1Z',
      '2026-11-23T10:00:00.123456789Z',
      '2026-11-23T10:00:01.000000001Z',
      '2026-11-23T10:00:01Z',
      '2026-11-23T12:00:01.5+02:00',
      '2026-11-23t10:00:01z',
      '2026-11-23 10:00:01.25Z',
      '1969-12-31T23:59:59.999999999Z',
      '2026-11-23T10:00:01.Z',
      '2026-11-23T10:00:01.1234567890Z',
      '2026-13-45T10:00:01Z',
      'not a time at all, Z',
      '2026-11-23T10:5x:01Z',
      '2026-11-23T10:00:01.12a4Z',
      '2026-11-23T10-00-01Z',
      '2016-12-31T23:59:60.5Z',
    ]) {
      assert.equal(parseRfc3339Fast(t), parseRfc3339Nano(t), t);
    }
  });

  it('agrees with parseRfc3339Nano on 20,000 random times, hours apart and seconds apart', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pad = (v: number, w: number) => String(v).padStart(w, '0');
    for (let i = 0; i < 20_000; i++) {
      const digits = rand(10);
      const frac = digits === 0 ? '' : `.${pad(rand(10 ** digits), digits)}`;
      const t = `${1970 + rand(100)}-${pad(1 + rand(12), 2)}-${pad(1 + rand(28), 2)}T${pad(rand(24), 2)}:${pad(rand(60), 2)}:${pad(rand(60), 2)}${frac}Z`;
      assert.equal(parseRfc3339Fast(t), parseRfc3339Nano(t), t);
    }
  });
});
