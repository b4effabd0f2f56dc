/**
 * Conversions of stored entries to core.kjournal objects (names, metadata, payload, events.k8s.io/v1
 * from core/v1, audit fields), continue tokens and server-side tables.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeContinue, encodeContinue, queryFingerprint } from '../../src/kube/continue.js';
import {
  auditEventObject,
  containerLogObject,
  eventObject,
  logObject,
  parseObjectName,
  TIMESTAMP_ANNOTATION,
  toEventsV1,
} from '../../src/kube/objects.js';
import { resourceByName } from '../../src/kube/resources.js';
import { KubeError } from '../../src/kube/status.js';
import { columnDefinitions, toTable, wantsTable } from '../../src/kube/tables.js';
import type { StoredEntry } from '../../src/store/store.js';

const TS = 1_795_454_000_489_223_236n;

function entry(
  labels: Record<string, string>,
  body: string,
  attributes: Record<string, string> = {},
  seq = 42n,
): StoredEntry {
  return { stream: { id: 1n, labels }, timestamp: TS, observedTimestamp: TS, attributes, body, seq };
}

const coreEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17f', namespace: 'shop', uid: 'ev-uid' },
  involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'p1' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2026-11-23T16:00:00Z',
  lastTimestamp: '2026-11-23T17:00:00Z',
  count: 12,
  type: 'Warning',
};

describe('objects', () => {
  test('a container log: stable name, metadata at nanosecond precision, pod labels, JSON payload', () => {
    const o = containerLogObject(
      'default',
      entry(
        {
          kind: 'containerlog',
          kubernetes_namespace_name: 'shop',
          kubernetes_pod_name: 'Web_1',
          kubernetes_container_name: 'app',
          kubernetes_labels_app: 'web',
          stream: 'stderr',
        },
        '{"level":"error","msg":"boom"}',
        { k8s_pod_labels_tier: 'fe', k8s_node_name: 'node-1' },
      ),
    );
    assert.equal(o.metadata.name, `web-1.${TS}.42`);
    assert.deepEqual(parseObjectName(o.metadata.name), { timestamp: TS, seq: 42n });
    assert.equal(o.metadata.namespace, 'shop');
    assert.equal(o.metadata.resourceVersion, '42');
    assert.equal(o.metadata.creationTimestamp, '2026-11-23T17:13:20Z');
    assert.equal(o.metadata.annotations[TIMESTAMP_ANNOTATION], '2026-11-23T17:13:20.489223236Z');
    assert.deepEqual(o.metadata.labels, { app: 'web', tier: 'fe' });
    assert.match(o.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(
      o.metadata.uid,
      containerLogObject('default', entry({}, 'x')).metadata.uid,
      'uid depends on identity only',
    );
    assert.notEqual(o.metadata.uid, containerLogObject('other', entry({}, 'x')).metadata.uid);
    assert.deepEqual([o.pod, o.container, o.node, o.stream], ['Web_1', 'app', 'node-1', 'stderr']);
    assert.deepEqual(o.payload, { level: 'error', msg: 'boom' });
    assert.equal(containerLogObject('t', entry({}, '[1,2]')).payload, '[1,2]', 'only objects are parsed');
    assert.equal(containerLogObject('t', entry({}, '{bad')).payload, '{bad');
  });

  test("pod labels: plain stream labels as Promtail and Alloy push them, the pod's own spelling first", () => {
    const labels = (l: Record<string, string>, attributes: Record<string, string> = {}) =>
      containerLogObject('t', entry(l, 'x', attributes)).metadata.labels;
    // Promtail's kubernetes-pods job: only app and component come from the pod's labels.
    assert.deepEqual(
      labels({
        kind: 'containerlog',
        class: 'application',
        namespace: 'shop',
        pod: 'shop-1',
        container: 'app',
        node_name: 'node-1',
        job: 'shop/shop',
        filename: '/var/log/pods/shop_shop-1_u/app/0.log',
        stream: 'stdout',
        app: 'shop',
        component: 'web',
      }),
      { app: 'shop', component: 'web' },
    );
    // Alloy, Loki's OTLP index labels, Viaq and OpenShift metadata are not pod labels either.
    assert.equal(
      labels({
        kind: 'containerlog',
        k8s_namespace_name: 'shop',
        k8s_pod_name: 'p',
        k8s_deployment_name: 'd',
        kubernetes_host: 'n',
        service_name: 'svc',
        service_namespace: 'sn',
        cluster: 'prod',
        cloud_region: 'eu',
        deployment_environment: 'prod',
        log_type: 'application',
        openshift_log_type: 'application',
        detected_level: 'info',
        __pattern__: 'x',
      }),
      undefined,
    );
    // Viaq before OTEL before plain, in the stream; structured metadata only fills the gaps, and
    // only under a pod-label spelling.
    assert.deepEqual(
      labels(
        {
          kind: 'containerlog',
          app: 'derived',
          kubernetes_labels_app: 'real',
          k8s_pod_labels_app: 'otel',
          tier: 'fe',
        },
        { kubernetes_labels_app: 'meta', kubernetes_labels_team: 'pay', owner: 'not a pod label' },
      ),
      { app: 'real', tier: 'fe', team: 'pay' },
    );
    assert.deepEqual(labels({ kind: 'containerlog', k8s_pod_labels_app: 'otel', app: 'plain' }), {
      app: 'otel',
    });
  });

  test('names that are not ours do not parse', () => {
    assert.equal(parseObjectName('web-1'), undefined);
    assert.equal(parseObjectName('web.1.x'), undefined);
    assert.equal(parseObjectName('Web.1.2'), undefined);
  });

  test('a core/v1 event converts to the events.k8s.io/v1 shape', () => {
    const v1 = toEventsV1(coreEvent);
    assert.deepEqual(v1, {
      reportingController: 'kubelet',
      reportingInstance: 'node-1',
      reason: 'BackOff',
      regarding: coreEvent.involvedObject,
      note: 'Back-off restarting failed container',
      type: 'Warning',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-11-23T16:00:00Z',
      deprecatedLastTimestamp: '2026-11-23T17:00:00Z',
      deprecatedCount: 12,
    });
    const o = eventObject('t', entry({ kind: 'event', namespace: 'shop' }, JSON.stringify(coreEvent)));
    assert.equal(o.kind, 'Event');
    assert.equal(o.metadata.namespace, 'shop');
    assert.equal(o.metadata.name, `web-1.${TS}.42`);
    assert.equal(o.metadata.annotations['core.kjournal/event-name'], 'web-1.17f');
    assert.equal(o.eventTime, '2026-11-23T17:13:20.489223Z', 'eventTime falls back to the entry time');
    // Eventrouter lines and events.k8s.io/v1 events pass through.
    const wrapped = eventObject('t', entry({}, JSON.stringify({ verb: 'ADDED', event: coreEvent })));
    assert.equal(wrapped.note, coreEvent.message);
    const native = {
      regarding: { kind: 'Node', name: 'n1' },
      note: 'x',
      eventTime: '2026-11-23T17:00:00.000001Z',
      series: { count: 2, lastObservedTime: 'y' },
      reportingController: 'c',
    };
    assert.deepEqual(toEventsV1(native), native);
  });

  test('audit events keep the audit.k8s.io/v1 fields; logs carry node and source', () => {
    const audit = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'a-1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/pods',
      verb: 'list',
      user: { username: 'admin', groups: ['system:masters'] },
      objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: '2026-11-23T17:13:20.400000Z',
      stageTimestamp: '2026-11-23T17:13:20.489223Z',
    };
    const o = auditEventObject('t', entry({ kind: 'auditevent' }, JSON.stringify(audit)));
    assert.equal(o.apiVersion, 'core.kjournal/v1alpha1');
    assert.equal(o.kind, 'AuditEvent');
    assert.equal(o.metadata.namespace, undefined);
    for (const k of [
      'auditID',
      'stage',
      'verb',
      'user',
      'objectRef',
      'responseStatus',
      'requestReceivedTimestamp',
      'stageTimestamp',
      'level',
      'requestURI',
    ]) {
      assert.deepEqual(o[k], (audit as Record<string, unknown>)[k], k);
    }
    const l = logObject('t', entry({ kind: 'log', node: 'node-1', source: 'journal' }, 'kubelet started'));
    assert.deepEqual([l.node, l.source, l.payload], ['node-1', 'journal', 'kubelet started']);
    assert.equal(l.metadata.name, `node-1.${TS}.42`);
  });
});

describe('continue tokens', () => {
  const fp = queryFingerprint(['default', 'containerlogs', 'shop', undefined, 'pod=x']);
  const state = { query: fp, start: 1n, end: 99n, afterTimestamp: TS, afterSeq: 42n, resourceVersion: '77' };

  test('round trip', () => {
    assert.deepEqual(decodeContinue(encodeContinue(state), fp), state);
  });

  test('damaged, foreign or mismatched tokens are a 400', () => {
    const token = encodeContinue(state);
    const bad = (t: string, q = fp) =>
      assert.throws(
        () => decodeContinue(t, q),
        (e: unknown) => e instanceof KubeError && e.code === 400 && e.reason === 'BadRequest',
      );
    bad('not a token!');
    bad('abc');
    bad(`${token.slice(0, -2)}xx`);
    const text = Buffer.from(token, 'base64url').toString('utf8').replace('"42"', '"43"');
    bad(Buffer.from(text).toString('base64url'));
    bad(token, queryFingerprint(['default', 'containerlogs', 'other', undefined, 'pod=x']));
    assert.notEqual(fp, queryFingerprint(['default', 'containerlogs', 'shop', 'pod=x', undefined]));
  });
});

describe('tables', () => {
  test('columns per resource, wide ones at priority 1', () => {
    const names = (r: string, p: number) =>
      columnDefinitions(resourceByName(r)!)
        .filter((c) => c.priority === p)
        .map((c) => c.name.toUpperCase());
    assert.deepEqual(names('containerlogs', 0), ['TIME', 'POD', 'CONTAINER', 'MESSAGE']);
    assert.deepEqual(names('events', 0), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    assert.deepEqual(names('auditevents', 0), ['RECEIVED', 'VERB', 'RESOURCE', 'USER', 'CODE', 'STAGE']);
    assert.deepEqual(names('logs', 0), ['TIME', 'NODE', 'SOURCE', 'MESSAGE']);
    assert.ok(names('containerlogs', 1).includes('NODE'));
  });

  test('rows: cells, the message of a JSON line, partial object metadata', () => {
    const o = containerLogObject(
      't',
      entry({ pod: 'web-1', container: 'app', namespace: 'shop' }, '{"msg":"boom\\nagain","level":"error"}'),
    );
    const t = toTable(resourceByName('containerlogs')!, [o], { resourceVersion: '5' }, 'Metadata');
    assert.equal(t.kind, 'Table');
    assert.equal(t.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(t.rows[0]!.cells.slice(0, 4), [
      '2026-11-23T17:13:20.489Z',
      'web-1',
      'app',
      'boom again',
    ]);
    assert.deepEqual(t.rows[0]!.object, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: o.metadata,
    });
    assert.equal(toTable(resourceByName('containerlogs')!, [o], {}, 'None').rows[0]!.object, undefined);
    const ev = eventObject('t', entry({}, JSON.stringify(coreEvent)));
    const et = toTable(resourceByName('events')!, [ev], {}, 'Object');
    assert.deepEqual(et.rows[0]!.cells.slice(1, 5), [
      'Warning',
      'BackOff',
      'pod/web-1',
      'Back-off restarting failed container',
    ]);
  });

  test('Accept negotiation', () => {
    assert.equal(
      wantsTable(
        'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      ),
      true,
    );
    assert.equal(wantsTable('application/json'), false);
    assert.equal(wantsTable(undefined), false);
  });
});
