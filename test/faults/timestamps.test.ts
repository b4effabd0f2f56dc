/**
 * Fault: timestamps the store cannot hold, or the limits refuse, on every intake. Far-future (year
 * 2263 and 9999: past the store's signed 64-bit nanoseconds; before the fix an Event dated 2263 was
 * acknowledged by /ingest/events and wedged the store) and far-past (before 1970, and 1 ns: older
 * than `--reject-old-samples-max-age`) entries, sent along with valid ones through the Loki push
 * API (JSON and protobuf), /ingest/audit, /ingest/events, `kjournal import` and the agent. Each bad
 * entry gets Loki's per-entry refusal; the valid ones of the same request are stored and
 * queryable, also after a restart (the store converted them: nothing wedged it).
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';
import { encodePushRequest } from '../../src/ingest/loki-push/index.js';
import type { LogRecord } from '../../src/model/record.js';
import type { Source, SourceContext } from '../../src/sources/source.js';
import { snappyCompress } from '../../src/util/snappy.js';
import { clientFor, until } from '../helpers/agent-e2e.js';
import { runCliCapturingStderr as runCli } from '../helpers/process-info.js';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const S = 1_000_000_000n;
const Y2263 = 9_246_182_400n * S; // 2263-01-01T00:00:00Z
const Y9999 = 253_402_300_799n * S; // 9999-12-31T23:59:59Z
const BEFORE_1970 = -S; // 1969-12-31T23:59:59Z
const ONE_NS = 1n;
const INT64_MAX = 2n ** 63n - 1n; // 2262-04-11T23:47:16.854775807Z, the most a JSON push can carry
const NOW = BigInt(Date.now()) * 1_000_000n;
const OK_TS = NOW - 60n * S;

let server: ServerProcess;
const SERVER_ARGS = ['--reject-old-samples-max-age', '7d', '--audit-policy', 'none'];

before(async () => {
  server = await startServerProcess({ args: SERVER_ARGS });
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

const tooOld = (stream: string, when: string) =>
  new RegExp(
    `entry for stream '${reEscape(stream)}' has timestamp too old: ${reEscape(when)}, oldest acceptable timestamp is: \\d{4}-`,
  );
const tooNew = (stream: string, when: string) =>
  new RegExp(`entry for stream '${reEscape(stream)}' has timestamp too new: ${reEscape(when)}`);
function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Lines the server holds for `query` around now. */
async function linesOf(query: string): Promise<string[]> {
  const res = await queryRange(server.url, {
    query,
    start: String(NOW - 3_600n * S),
    end: String(NOW + 3_600n * S),
    limit: '1000',
    direction: 'forward',
  });
  return allValues(res).map((v) => v[1]);
}

test('push JSON: too old and too new entries are refused each, the rest stored', async () => {
  const r = await pushJson(server.url, {
    streams: [
      {
        stream: { job: 'json' },
        values: [
          [String(BEFORE_1970), 'json before 1970'],
          [String(ONE_NS), 'json 1 ns'],
          [String(OK_TS), 'json ok 1'],
          [String(INT64_MAX), 'json int64 max'],
          [String(OK_TS + 1n), 'json ok 2'],
        ],
      },
    ],
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, tooOld('{job="json"}', '1969-12-31T23:59:59Z'));
  assert.match(r.text, tooOld('{job="json"}', '1970-01-01T00:00:00Z'));
  assert.match(r.text, tooNew('{job="json"}', '2262-04-11T23:47:16Z'));
  assert.equal(r.headers.get('x-kjournal-entries-stored'), '2');
  assert.equal(r.headers.get('x-kjournal-entries-refused'), 'too_new=1, too_old=2');
  assert.deepEqual(await linesOf('{job="json"}'), ['json ok 1', 'json ok 2']);

  // Year 2263 and 9999 do not fit the int64 of a JSON push: Loki's decoder refuses the request
  // whole (nothing stored), and so does kjournal's.
  for (const ts of [Y2263, Y9999]) {
    const whole = await pushJson(server.url, {
      streams: [
        {
          stream: { job: 'json-overflow' },
          values: [
            [String(OK_TS), 'never'],
            [String(ts), 'x'],
          ],
        },
      ],
    });
    assert.equal(whole.status, 400);
    assert.match(whole.text, /does not fit in a signed 64-bit integer/);
  }
  assert.deepEqual(await linesOf('{job="json-overflow"}'), []);
});

test('push protobuf: years 2263 and 9999, before 1970 and 1 ns are refused each, the rest stored', async () => {
  const body = snappyCompress(
    encodePushRequest([
      {
        labels: '{job="proto"}',
        entries: [
          { timestamp: Y2263, line: 'proto 2263' },
          { timestamp: OK_TS, line: 'proto ok 1' },
          { timestamp: Y9999, line: 'proto 9999' },
          { timestamp: BEFORE_1970, line: 'proto before 1970' },
          { timestamp: ONE_NS, line: 'proto 1 ns' },
          { timestamp: OK_TS + 1n, line: 'proto ok 2' },
        ],
      },
    ]),
  );
  const r = await http(`${server.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, tooNew('{job="proto"}', '2263-01-01T00:00:00Z'));
  assert.match(r.text, tooNew('{job="proto"}', '9999-12-31T23:59:59Z'));
  assert.match(r.text, tooOld('{job="proto"}', '1969-12-31T23:59:59Z'));
  assert.match(r.text, tooOld('{job="proto"}', '1970-01-01T00:00:00Z'));
  assert.equal(r.headers.get('x-kjournal-entries-stored'), '2');
  assert.equal(r.headers.get('x-kjournal-entries-refused'), 'too_new=2, too_old=2');
  assert.deepEqual(await linesOf('{job="proto"}'), ['proto ok 1', 'proto ok 2']);
});

function auditEvent(id: string, stamp: string): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/ft/pods',
    verb: 'list',
    user: { username: 'ft-user' },
    objectRef: { resource: 'pods', namespace: 'ft', apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: stamp,
    stageTimestamp: stamp,
  };
}

const iso = (ns: bigint) => {
  const ms = Number(ns / 1_000_000n);
  return new Date(ms).toISOString();
};

const FAR = [
  ['2263-01-01T00:00:00Z', 'too_new'],
  ['9999-12-31T23:59:59Z', 'too_new'],
  ['1969-12-31T23:59:59Z', 'too_old'],
  ['1970-01-01T00:00:00.000000001Z', 'too_old'],
] as const;

test('/ingest/audit: events dated 2263, 9999, 1969 and 1 ns are refused each, the rest stored', async () => {
  const items = [
    auditEvent('ft-audit-ok-1', iso(OK_TS)),
    ...FAR.map(([stamp], i) => auditEvent(`ft-audit-bad-${i}`, stamp)),
    auditEvent('ft-audit-ok-2', iso(OK_TS + 1_000_000n)),
  ];
  const r = await http(`${server.url}/ingest/audit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
  });
  // kube-apiserver's webhook does not retry a 400: the valid events had to be stored.
  assert.equal(r.status, 400, r.text);
  const stream = '{class="audit", kind="auditevent"}';
  assert.match(r.text, tooNew(stream, '2263-01-01T00:00:00Z'));
  assert.match(r.text, tooNew(stream, '9999-12-31T23:59:59Z'));
  assert.match(r.text, tooOld(stream, '1969-12-31T23:59:59Z'));
  assert.match(r.text, tooOld(stream, '1970-01-01T00:00:00Z'));
  assert.equal(r.headers.get('x-kjournal-entries-stored'), '2');
  assert.equal(r.headers.get('x-kjournal-entries-refused'), 'too_new=2, too_old=2');
  const got = (await linesOf('{kind="auditevent"} |= "ft-audit"')).map(
    (l) => (JSON.parse(l) as { auditID: string }).auditID,
  );
  assert.deepEqual(got, ['ft-audit-ok-1', 'ft-audit-ok-2']);
});

test('/ingest/events: events dated 2263, 9999, 1969 and 1 ns are refused each, the rest stored', async () => {
  const event = (name: string, stamp: string) => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'ft' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'ft' },
    reason: 'Test',
    message: name,
    type: 'Normal',
    lastTimestamp: stamp,
  });
  const items = [
    event('ft-event-ok-1', iso(OK_TS)),
    ...FAR.map(([stamp], i) => event(`ft-event-bad-${i}`, stamp)),
    event('ft-event-ok-2', iso(OK_TS + 1_000_000n)),
  ];
  const r = await http(`${server.url}/ingest/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'EventList', apiVersion: 'v1', items }),
  });
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, tooNew('{class="application", kind="event", namespace="ft"}', '2263-01-01T00:00:00Z'));
  assert.match(r.text, tooOld('{class="application", kind="event", namespace="ft"}', '1969-12-31T23:59:59Z'));
  assert.equal(r.headers.get('x-kjournal-entries-stored'), '2');
  assert.equal(r.headers.get('x-kjournal-entries-refused'), 'too_new=2, too_old=2');
  const got = (await linesOf('{kind="event"} |= "ft-event"')).map(
    (l) => (JSON.parse(l) as { metadata: { name: string } }).metadata.name,
  );
  assert.deepEqual(got, ['ft-event-ok-1', 'ft-event-ok-2']);
});

test('import: far-future and far-past lines are refused and counted; the import goes on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-ft-import-'));
  try {
    const file = join(dir, 'app.jsonl');
    const lines = [
      { time: iso(OK_TS), msg: 'import ok 1' },
      ...FAR.map(([time], i) => ({ time, msg: `import bad ${i}` })),
      { time: iso(OK_TS + 1_000_000n), msg: 'import ok 2' },
    ];
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const r = await runCli(['import', file, '--server', server.url, '--labels', 'job=import']);
    // Too new is a refusal to look at: the exit status says so, after everything else was loaded.
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /imported 1 file: 6 lines, 3 entries sent: 2 stored, 0 duplicate, 4 refused \(too_new=2, too_old=2\); 0 malformed;/,
    );
    assert.match(
      r.stderr,
      /refused: .*app\.jsonl:3: entry for stream '.*' has timestamp too new: 9999-12-31T23:59:59Z/,
    );
    assert.match(r.stderr, /kjournal: the server refused 2 entries \(too_new=2\); the others were imported/);
    assert.deepEqual(
      await linesOf('{job="import"}'),
      lines.filter((l) => l.msg.includes('ok')).map((l) => JSON.stringify(l)),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A source that stages and emits records of every bad kind among good ones, once. */
class FarTimeSource implements Source {
  readonly name = 'fartime';
  done = false;
  async run(ctx: SourceContext): Promise<void> {
    const rec = (ts: bigint, body: string): LogRecord => ({
      timestamp: ts,
      observedTimestamp: NOW,
      labels: { job: 'agent' },
      attributes: {},
      body,
    });
    ctx.stage([rec(Y2263, 'agent 2263'), rec(OK_TS, 'agent ok 1')]);
    const buf = Buffer.from('agent before 1970agent ok 2');
    ctx.stageBytes?.({ job: 'agent' }, {}, BEFORE_1970, buf, 0, 17);
    ctx.stageBytes?.({ job: 'agent' }, {}, OK_TS + 1n, buf, 17, buf.length);
    await ctx.emit({
      records: [rec(Y9999, 'agent 9999'), rec(OK_TS + 2n, 'agent ok 3'), rec(INT64_MAX, 'agent int64 max')],
      positions: { done: true },
    });
    this.done = true;
    await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
  }
}

test('agent: far-future and before-1970 records are dropped before the buffer; no push is refused', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'kj-ft-agent-'));
  const logged: string[] = [];
  const source = new FarTimeSource();
  const agent = new Agent({
    sources: [source],
    client: clientFor(server.url),
    stateDir,
    batchMaxWaitMs: 20,
    log: (m) => logged.push(m),
  });
  try {
    await agent.start();
    await until('the batch acknowledged', () => source.done && agent.buffer.pending.length === 0);
    const dropped = (await agent.metrics.dropped.get()).values;
    const count = (reason: string) => dropped.find((v) => v.labels.reason === reason)?.value ?? 0;
    assert.equal(count('too_new'), 3);
    assert.equal(count('too_old'), 1);
    assert.equal(count('rejected'), 0, 'the server refused nothing');
    const pushes = (await agent.metrics.pushes.get()).values;
    assert.equal(pushes.find((v) => v.labels.result === 'rejected')?.value ?? 0, 0);
    assert.match(
      logged.join('\n'),
      /agent: fartime: entry for stream '\{job="agent"\}' has timestamp too new: 2263-01-01T00:00:00Z; not shipped/,
    );
    assert.deepEqual(await linesOf('{job="agent"}'), ['agent ok 1', 'agent ok 2', 'agent ok 3']);
  } finally {
    await agent.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('after all that, a restarted server converts and serves what was stored: nothing wedged it', async () => {
  await server.stop();
  server = await startServerProcess({ dataDir: server.dataDir, args: SERVER_ARGS });
  assert.deepEqual(await linesOf('{job="json"}'), ['json ok 1', 'json ok 2']);
  assert.deepEqual(await linesOf('{job="proto"}'), ['proto ok 1', 'proto ok 2']);
  assert.deepEqual(await linesOf('{job="agent"}'), ['agent ok 1', 'agent ok 2', 'agent ok 3']);
  assert.equal((await linesOf('{kind="auditevent"} |= "ft-audit"')).length, 2);
  assert.equal((await linesOf('{kind="event"} |= "ft-event"')).length, 2);
  assert.equal((await linesOf('{job="import"}')).length, 2);
});
