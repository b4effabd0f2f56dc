/**
 * `POST /ingest/audit` and `POST /ingest/events` against the real server: what kube-apiserver's
 * audit webhook sends (an EventList), newline-delimited events, Kubernetes events in every shape
 * kjournal knows, the default audit policy, and bad requests that store nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  allValues,
  http,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../../helpers/server-process.js';

let server: ServerProcess;
let keepAll: ServerProcess;
const stamp = new Date(Date.now() - 120_000).toISOString();
const window = {
  start: String(BigInt(Date.now() - 3_600_000) * 1_000_000n),
  end: String(BigInt(Date.now() + 60_000) * 1_000_000n),
  limit: '100',
  direction: 'forward',
};

before(async () => {
  [server, keepAll] = await Promise.all([
    startServerProcess(),
    startServerProcess({ args: ['--audit-policy', 'none'] }),
  ]);
});
after(async () => {
  for (const s of [server, keepAll]) {
    await s.stop();
    await removeDir(s.dataDir);
  }
});

function auditEvent(id: string, verb: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/shop/pods/p',
    verb,
    user: { username: 'alice', groups: ['system:authenticated'] },
    objectRef: { resource: 'pods', namespace: 'shop', name: 'p', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { kind: 'Pod', metadata: { name: 'p' } },
    requestReceivedTimestamp: stamp,
    stageTimestamp: stamp,
    ...extra,
  };
}

const post = (url: string, path: string, body: string, type = 'application/json') =>
  http(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

async function stored(url: string, query: string): Promise<Record<string, unknown>[]> {
  return allValues(await queryRange(url, { ...window, query })).map(([, l]) => JSON.parse(l));
}

test("the audit webhook's EventList is stored once durable, under the default policy", async () => {
  const list = {
    kind: 'EventList',
    apiVersion: 'audit.k8s.io/v1',
    metadata: {},
    items: [auditEvent('a-1', 'create'), auditEvent('a-2', 'get'), auditEvent('a-3', 'delete')],
  };
  const r = await post(server.url, '/ingest/audit', JSON.stringify(list));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { received: 3, stored: 2 });
  const events = await stored(server.url, '{kind="auditevent"}');
  assert.deepEqual(events.map((e) => `${e.auditID}/${e.verb}/${e.level}`).sort(), [
    'a-1/create/Metadata',
    'a-3/delete/Metadata',
  ]);
  assert.ok(
    events.every((e) => e.requestObject === undefined),
    'Metadata drops the request object',
  );
});

test('newline-delimited audit events, with --audit-policy none: every event as sent', async () => {
  const body = `${JSON.stringify(auditEvent('n-1', 'get'))}\n${JSON.stringify(auditEvent('n-2', 'watch'))}\n`;
  const r = await post(keepAll.url, '/ingest/audit', body, 'application/x-ndjson');
  assert.equal(r.status, 200, r.text);
  const events = await stored(keepAll.url, '{kind="auditevent"} |= "n-"');
  assert.deepEqual(events.map((e) => `${e.auditID}/${e.level}`).sort(), [
    'n-1/RequestResponse',
    'n-2/RequestResponse',
  ]);
  assert.deepEqual(events[0]!.requestObject, { kind: 'Pod', metadata: { name: 'p' } });
});

test('a malformed audit request is refused whole with a 400 that says where; nothing is stored', async () => {
  const list = {
    kind: 'EventList',
    apiVersion: 'audit.k8s.io/v1',
    items: [auditEvent('bad-1', 'create'), { kind: 'Event', auditID: 'bad-2', verb: 'create' }],
  };
  let r = await post(keepAll.url, '/ingest/audit', JSON.stringify(list));
  assert.equal(r.status, 400);
  assert.match(r.text, /items\[1\]: audit event without a valid stageTimestamp; nothing was stored/);
  r = await post(keepAll.url, '/ingest/audit', '{"kind":"Event"');
  assert.equal(r.status, 400);
  assert.match(r.text, /not a JSON object/);
  r = await post(keepAll.url, '/ingest/audit', 'x', 'application/xml');
  assert.equal(r.status, 415);
  assert.match(r.text, /unsupported Content-Type "application\/xml"/);
  r = await post(keepAll.url, '/ingest/audit', '');
  assert.equal(r.status, 400);
  r = await http(`${keepAll.url}/ingest/audit`);
  assert.equal(r.status, 405);
  assert.deepEqual(await stored(keepAll.url, '{kind="auditevent"} |= "bad-"'), []);
});

test('/ingest/events takes core/v1 and events.k8s.io/v1 events, lists and eventrouter lines', async () => {
  const core = {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: 'p.1', namespace: 'shop', uid: 'u-core', resourceVersion: '10' },
    involvedObject: { kind: 'Pod', namespace: 'shop', name: 'p' },
    reason: 'Scheduled',
    message: 'assigned shop/p to node-1',
    type: 'Normal',
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count: 1,
  };
  const modern = {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: { name: 'p.2', namespace: 'shop', uid: 'u-new', resourceVersion: '11' },
    regarding: { kind: 'Pod', namespace: 'shop', name: 'p' },
    reason: 'Pulled',
    note: 'image pulled',
    type: 'Normal',
    eventTime: stamp.replace('Z', '000Z'),
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    action: 'Pull',
  };
  const list = {
    kind: 'EventList',
    apiVersion: 'v1',
    items: [{ ...core, metadata: { ...core.metadata, uid: 'u-list' } }],
  };
  let r = await post(server.url, '/ingest/events', JSON.stringify(core, null, 2));
  assert.equal(r.status, 200, r.text);
  r = await post(server.url, '/ingest/events', JSON.stringify(list));
  assert.equal(r.status, 200, r.text);
  const router = `${JSON.stringify({ verb: 'ADDED', event: { ...core, metadata: { ...core.metadata, uid: 'u-router' } } })}\n${JSON.stringify(modern)}\n`;
  r = await post(server.url, '/ingest/events', router, 'application/x-ndjson');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { received: 2, stored: 2 });
  const res = await queryRange(server.url, { ...window, query: '{kind="event", namespace="shop"}' });
  const uids = allValues(res).map(([, l]) => (JSON.parse(l) as { metadata: { uid: string } }).metadata.uid);
  assert.deepEqual(uids.sort(), ['u-core', 'u-list', 'u-new', 'u-router']);
  r = await post(server.url, '/ingest/events', JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1' }));
  assert.equal(r.status, 400);
  assert.match(r.text, /not a Kubernetes event; nothing was stored/);
});
