import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Handler, startServer, type TestServer } from '../client/server.js';
import { runCliCapturingStderr as run } from '../helpers/process-info.js';
import { fixture, utcNs } from './helpers.js';

interface Received {
  labels: Record<string, string>;
  ts: bigint;
  line: string;
  meta: Record<string, string> | undefined;
}

/** Every entry the server received, in order. */
function received(srv: TestServer): Received[] {
  const out: Received[] = [];
  for (const r of srv.requests) {
    assert.equal(r.url, '/loki/api/v1/push');
    assert.equal(r.headers['content-encoding'], 'gzip');
    const body = JSON.parse(r.body.toString()) as {
      streams: { stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[];
    };
    for (const s of body.streams) {
      for (const [ts, line, meta] of s.values) out.push({ labels: s.stream, ts: BigInt(ts), line, meta });
    }
  }
  return out;
}

const UID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const dir = mkdtempSync(join(tmpdir(), 'kjournal-import-'));
const podDir = join(dir, 'pods', `shop_web-1_${UID}`, 'app');
const sidecarDir = join(dir, 'pods', `shop_web-1_${UID}`, 'proxy');

before(() => {
  mkdirSync(podDir, { recursive: true });
  mkdirSync(sidecarDir, { recursive: true });
  mkdirSync(join(dir, 'audit'));
  mkdirSync(join(dir, 'events'));
  // Restart 0, rotated and compressed, then the live file of restart 1.
  writeFileSync(
    join(podDir, '0.log.20261123-090000.gz'),
    gzipSync('2026-11-23T09:00:00.000000001Z stdout F first\n2026-11-23T09:00:01Z stderr F oops\n'),
  );
  writeFileSync(
    join(podDir, '1.log'),
    [
      '2026-11-23T10:00:00.123456789Z stdout P long ',
      '2026-11-23T10:00:00.2Z stdout F line',
      'this is not CRI',
      '2026-11-23T12:00:01+02:00 stdout F offset',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(sidecarDir, '0.log'),
    '{"log":"proxy up\\n","stream":"stderr","time":"2026-11-23T10:00:02.5Z"}\n',
  );
  writeFileSync(join(dir, 'audit', 'audit.log'), readFileSync(fixture('audit.jsonl')));
  writeFileSync(join(dir, 'events', 'events.json'), readFileSync(fixture('events-list.json')));
  writeFileSync(join(dir, 'app.jsonl'), '{"time":"2026-11-23T10:00:03Z","msg":"json"}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('kjournal import (end to end)', () => {
  let srv: TestServer;
  let handler: Handler = () => undefined;
  before(async () => {
    srv = await startServer((r, i) => handler(r, i));
  });
  after(() => srv.close());

  it('loads a directory of pod logs, audit, events and JSON lines', async () => {
    srv.requests.length = 0;
    handler = () => undefined;
    const r = await run(['import', dir, '--server', srv.url, '--labels', 'cluster=c1', '--batch-lines', '3']);
    assert.equal(r.code, 0, r.stderr);
    const got = received(srv);
    assert.ok(srv.requests.length >= 4, 'batches of at most 3 lines');
    for (const req of srv.requests) {
      const body = JSON.parse(req.body.toString()) as { streams: { values: unknown[] }[] };
      assert.ok(body.streams.reduce((n, s) => n + s.values.length, 0) <= 3);
    }
    for (const e of got) assert.equal(e.labels.cluster, 'c1');

    // A push groups entries by stream, so compare in time order.
    const pod = got.filter((e) => e.labels.kind === 'containerlog').sort((a, b) => (a.ts < b.ts ? -1 : 1));
    assert.deepEqual(
      pod.map((e) => [e.labels.container, e.labels.stream, e.ts, e.line, e.meta?.restart_count]),
      [
        ['app', 'stdout', utcNs(2026, 11, 23, 9, 0, 0, 1n), 'first', '0'],
        ['app', 'stderr', utcNs(2026, 11, 23, 9, 0, 1), 'oops', '0'],
        ['app', 'stdout', utcNs(2026, 11, 23, 10, 0, 0, 123456789n), 'long line', '1'],
        ['app', 'stdout', utcNs(2026, 11, 23, 10, 0, 1), 'offset', '1'],
        ['proxy', 'stderr', utcNs(2026, 11, 23, 10, 0, 2, 500000000n), 'proxy up', '0'],
      ],
    );
    assert.deepEqual(pod[0]!.labels, {
      kind: 'containerlog',
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      stream: 'stdout',
      cluster: 'c1',
    });
    assert.deepEqual(pod[0]!.meta, { pod_uid: UID, restart_count: '0' });

    const audit = got.filter((e) => e.labels.kind === 'auditevent');
    assert.equal(audit.length, 3);
    assert.equal(audit[0]!.labels.class, 'audit');
    assert.equal(audit[1]!.ts, utcNs(2026, 11, 23, 10, 0, 1, 987654321n));
    assert.equal(audit[1]!.meta?.objectRef_name, 'db');

    const events = got.filter((e) => e.labels.kind === 'event');
    assert.deepEqual(
      events.map((e) => [e.labels.namespace, e.ts, e.meta?.reason]),
      [
        ['shop', utcNs(2026, 11, 23, 8, 30, 0), 'ScalingReplicaSet'],
        ['shop', utcNs(2026, 11, 23, 8, 45, 0, 654321000n), 'Unhealthy'],
      ],
    );

    // A generic file's stream names it, as promtail's `filename` label does.
    const json = got.filter((e) => e.labels.kind === undefined);
    assert.deepEqual(
      json.map((e) => [e.labels, e.ts, e.line]),
      [
        [
          { cluster: 'c1', filename: realpathSync(join(dir, 'app.jsonl')) },
          utcNs(2026, 11, 23, 10, 0, 3),
          '{"time":"2026-11-23T10:00:03Z","msg":"json"}',
        ],
      ],
    );

    // Malformed lines are named by file and line, and counted in the summary.
    assert.match(r.stderr, /malformed: .*app\/1\.log:3: bad CRI timestamp/);
    assert.match(r.stderr, /malformed: .*events\.json:1: items\[2\]: event without a timestamp/);
    assert.match(
      r.stderr,
      /imported 6 files: \d+ lines, 11 entries sent: 11 stored, 0 duplicate, 0 refused; 2 malformed; [\d.]+ kB, [\d.]+s, \d+ lines\/s/,
    );
  });

  it('sends the tenant and token, and honours --format', async () => {
    srv.requests.length = 0;
    handler = () => undefined;
    const r = await run([
      'import',
      join(dir, 'app.jsonl'),
      '--server',
      srv.url,
      '--tenant',
      'acme',
      '--token',
      'tok',
      '--format',
      'logfmt',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(srv.requests[0]!.headers['x-scope-orgid'], 'acme');
    assert.equal(srv.requests[0]!.headers.authorization, 'Bearer tok');
    const [e] = received(srv);
    assert.deepEqual(e!.labels, { filename: realpathSync(join(dir, 'app.jsonl')) });
  });

  it('exits non-zero with the server message when the server rejects data', async () => {
    srv.requests.length = 0;
    handler = () => ({ status: 400, body: 'stream labels are invalid' });
    const r = await run(['import', join(dir, 'audit'), '--server', srv.url]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /kjournal: import stopped: server rejected push: HTTP 400: stream labels are invalid/,
    );
    assert.equal(srv.requests.length, 1);
  });

  it('exits non-zero when nothing could be read', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'a.log'), '');
    handler = () => undefined;
    const r1 = await run(['import', empty, '--server', srv.url]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /kjournal: nothing could be read from 1 file/);
    const r2 = await run(['import', join(dir, 'missing'), '--server', srv.url]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /kjournal: cannot import .*missing: no such file or directory\n$/);
    const r3 = await run(['import', dir, '--server', srv.url, '--labels', '9bad=x']);
    // A bad value of an option is a usage error (README "Exit codes").
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /not a valid label name/);
  });
});
