/**
 * Label and field selectors of the core.kjournal API: Kubernetes syntax, exact evaluation, what is
 * pushed to the store, and errors that name what is wrong.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/kube/objects.js';
import { resourceByName } from '../../src/kube/resources.js';
import {
  compileSelection,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  parseTimeBound,
} from '../../src/kube/selectors.js';
import { KubeError } from '../../src/kube/status.js';

const clogs = resourceByName('containerlogs')!;
const audits = resourceByName('auditevents')!;
const events = resourceByName('events')!;
const HOUR = 3_600_000_000_000n;
const NOW = 1_795_000_000_000_000_000n;

function badRequest(fn: () => unknown, includes: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KubeError, String(err));
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.ok(err.message.includes(includes), err.message);
    return true;
  });
}

function clog(over: Partial<KubeObject> & { labels?: Record<string, string> } = {}): KubeObject {
  const { labels, ...rest } = over;
  return {
    apiVersion: 'core.kjournal/v1alpha1',
    kind: 'ContainerLog',
    metadata: {
      name: 'web-1.100.7',
      namespace: 'shop',
      uid: 'u',
      resourceVersion: '7',
      creationTimestamp: '2026-01-01T00:00:00Z',
      annotations: {},
      ...(labels ? { labels } : {}),
    },
    pod: 'web-1',
    container: 'app',
    node: 'n1',
    stream: 'stdout',
    payload: { level: 'error', http: { status: 500 } },
    ...rest,
  };
}

describe('label selectors', () => {
  test('every operator parses', () => {
    assert.deepEqual(
      parseLabelSelector('app=web,tier==fe,env!=prod,zone in (a, b),x notin (c),has,!gone,n>3'),
      [
        { key: 'app', op: '=', values: ['web'] },
        { key: 'tier', op: '=', values: ['fe'] },
        { key: 'env', op: '!=', values: ['prod'] },
        { key: 'zone', op: 'in', values: ['a', 'b'] },
        { key: 'x', op: 'notin', values: ['c'] },
        { key: 'has', op: 'exists', values: [] },
        { key: 'gone', op: '!', values: [] },
        { key: 'n', op: 'gt', values: ['3'] },
      ],
    );
    assert.deepEqual(parseLabelSelector(''), []);
  });

  test('evaluation follows Kubernetes: != and notin match a missing label, in does not', () => {
    const labels = { app: 'web', app_kubernetes_io_name: 'shop', n: '5' };
    const m = (sel: string) => matchesLabels(parseLabelSelector(sel), labels);
    assert.equal(m('app=web'), true);
    assert.equal(m('app=db'), false);
    assert.equal(m('env!=prod'), true);
    assert.equal(m('env in (prod)'), false);
    assert.equal(m('env notin (prod)'), true);
    assert.equal(m('app in (db,web)'), true);
    assert.equal(m('app'), true);
    assert.equal(m('!app'), false);
    assert.equal(m('!env'), true);
    assert.equal(m('n>4,n<6'), true);
    assert.equal(m('n>5'), false);
    // A key with dots and a prefix finds the label stored under its safe name.
    assert.equal(m('app.kubernetes.io/name=shop'), true);
  });

  test('malformed selectors are a 400 naming the problem', () => {
    badRequest(() => parseLabelSelector('app=web,'), "found ''");
    badRequest(() => parseLabelSelector('app in (a'), 'unable to parse requirement');
    badRequest(() => parseLabelSelector('app=we b'), 'unable to parse');
    badRequest(() => parseLabelSelector('-bad=x'), 'invalid label key');
    badRequest(() => parseLabelSelector('n>x'), 'must be an integer');
  });
});

describe('field selectors', () => {
  test('operators, == and escapes', () => {
    assert.deepEqual(parseFieldSelector('pod==a,stream!=stderr,payload.msg=a\\,b\\=c'), [
      { field: 'pod', op: '=', value: 'a' },
      { field: 'stream', op: '!=', value: 'stderr' },
      { field: 'payload.msg', op: '=', value: 'a,b=c' },
    ]);
    assert.deepEqual(parseFieldSelector('metadata.creationTimestamp>=-2h'), [
      { field: 'metadata.creationTimestamp', op: '>=', value: '-2h' },
    ]);
  });

  test('unsupported fields and operators are a 400 naming them', () => {
    const c =
      (fieldSelector: string, resource = clogs) =>
      () =>
        compileSelection({ resource, fieldSelector, window: HOUR, now: NOW });
    badRequest(c('spec.nodeName=x'), 'field label not supported: "spec.nodeName"');
    badRequest(c('payload.level>=x'), 'operator ">="');
    badRequest(c('metadata.creationTimestamp=2026-01-01T00:00:00Z'), 'use >=, <=');
    badRequest(c('metadata.creationTimestamp>=yesterday'), 'invalid time');
    badRequest(c('verb=get'), '"verb"');
    badRequest(c('payload.x=1', audits), '"payload.x"');
    badRequest(c('metadata.namespace=x', audits), '"metadata.namespace"');
    badRequest(c('nooperator'), 'expected a field');
  });

  test('time bounds: RFC 3339 and relative, inclusive and exclusive', () => {
    assert.equal(parseTimeBound('-2h', NOW), NOW - 2n * HOUR);
    assert.equal(parseTimeBound('2h', NOW), NOW - 2n * HOUR);
    assert.equal(parseTimeBound('2026-01-01T00:00:00.5Z', NOW), 1_767_225_600_500_000_000n);
    const s = compileSelection({
      resource: clogs,
      fieldSelector: 'metadata.creationTimestamp>=-48h,metadata.creationTimestamp<=-1h',
      window: HOUR,
      now: NOW,
    });
    assert.equal(s.start, NOW - 48n * HOUR);
    assert.equal(s.end, NOW - HOUR + 1n);
    assert.equal(s.explicitStart, true);
    const d = compileSelection({ resource: clogs, window: 24n * HOUR, now: NOW });
    assert.equal(d.start, NOW - 24n * HOUR, 'the default window');
    assert.equal(d.explicitStart, false);
  });

  test('pushdown: kind and label-or-absent matchers, hints; exact test in TypeScript', () => {
    const s = compileSelection({
      resource: clogs,
      namespace: 'shop',
      labelSelector: 'app=web',
      fieldSelector: 'pod=web-1,payload.level=error,payload.http.status=500',
      window: HOUR,
      now: NOW,
    });
    assert.deepEqual(s.matchers, [
      { name: 'kind', op: '=', value: 'containerlog' },
      { name: 'pod', op: '=~', value: '(?:web-1)?' },
      { name: 'namespace', op: '=~', value: '(?:shop)?' },
    ]);
    assert.ok(s.hints.some((h) => h.literal === 'error'));
    assert.ok(s.hints.some((h) => h.label === 'kubernetes_labels_app' && h.literal === 'web'));
    assert.equal(s.matches(clog({ labels: { app: 'web' } })), true);
    assert.equal(s.matches(clog({ labels: { app: 'db' } })), false);
    assert.equal(s.matches(clog({ labels: { app: 'web' }, payload: 'text' })), false);
    assert.equal(s.matches(clog({ labels: { app: 'web' }, pod: 'web-2' })), false);
    const ne = compileSelection({
      resource: clogs,
      fieldSelector: 'payload.level!=error',
      window: HOUR,
      now: NOW,
    });
    assert.equal(ne.matches(clog({ payload: 'plain text' })), true, '!= matches a missing field');
    assert.equal(ne.matches(clog()), false);
  });

  test('pushdown of pod labels: any spelling a stream gives decides, else its lines may', () => {
    const s = compileSelection({
      resource: clogs,
      labelSelector: 'app=shop,tier notin (db),!legacy,app.kubernetes.io/name',
      window: HOUR,
      now: NOW,
    });
    assert.deepEqual(
      s.hints.filter((h) => h.literal === 'shop'),
      [{ label: 'kubernetes_labels_app', literal: 'shop', orLabels: ['k8s_pod_labels_app', 'app'] }],
    );
    const f = s.streamFilter!;
    const base = { kind: 'containerlog', namespace: 'shop', pod: 'p', app_kubernetes_io_name: 'x' };
    // Promtail's plain labels.
    assert.equal(f({ ...base, app: 'shop' }), true);
    assert.equal(f({ ...base, app: 'cart' }), false);
    assert.equal(f({ ...base, app: 'shop', tier: 'db' }), false);
    assert.equal(f({ ...base, app: 'shop', legacy: 'yes' }), false);
    // The pod's own label (Viaq, OTEL) wins over the plain one.
    assert.equal(f({ ...base, app: 'derived', kubernetes_labels_app: 'shop' }), true);
    assert.equal(f({ ...base, app: 'shop', k8s_pod_labels_app: 'cart' }), false);
    // A stream without the label leaves it to the lines' structured metadata.
    assert.equal(f({ kind: 'containerlog', namespace: 'shop', pod: 'p' }), true);
    // Metadata and collectors' labels are not pod labels: never decided by the stream.
    const meta = compileSelection({
      resource: clogs,
      labelSelector: 'job=x,namespace=y',
      window: HOUR,
      now: NOW,
    });
    assert.equal(meta.streamFilter!({ job: 'other', namespace: 'other' }), true);
    assert.deepEqual(
      meta.hints.map((h) => [h.label, h.orLabels]),
      [
        ['kubernetes_labels_job', ['k8s_pod_labels_job']],
        ['kubernetes_labels_namespace', ['k8s_pod_labels_namespace']],
      ],
    );
    assert.equal(compileSelection({ resource: clogs, window: HOUR, now: NOW }).streamFilter, undefined);
  });

  test('countable: only time and stream-label fields select', () => {
    const countable = (
      input: { namespace?: string; labelSelector?: string; fieldSelector?: string },
      resource = clogs,
    ) => compileSelection({ resource, window: HOUR, now: NOW, ...input }).countable;
    assert.equal(countable({}), true);
    assert.equal(
      countable({ namespace: 'shop', fieldSelector: 'pod=a,metadata.creationTimestamp>=-2h' }),
      true,
    );
    assert.equal(countable({ namespace: 'shop', labelSelector: 'app=a' }), false);
    assert.equal(countable({ fieldSelector: 'payload.level=error' }), false);
    assert.equal(countable({ fieldSelector: 'pod!=a' }), false);
    assert.equal(countable({ namespace: 'shop' }, events), false, "an event's namespace is in its body");
    assert.equal(countable({}, audits), true);
  });

  test('a name selector narrows the time range to the entry', () => {
    const s = compileSelection({
      resource: clogs,
      fieldSelector: 'metadata.name=web-1.100.7',
      window: HOUR,
      now: NOW,
    });
    assert.equal(s.start, 100n);
    assert.equal(s.end, 101n);
    assert.equal(s.matches(clog()), true);
  });

  test('event and audit fields', () => {
    const e = compileSelection({
      resource: events,
      fieldSelector: 'regarding.kind=Pod,type=Warning',
      window: HOUR,
      now: NOW,
    });
    const ev = (kind: string, type: string): KubeObject => ({
      apiVersion: 'v',
      kind: 'Event',
      metadata: clog().metadata,
      regarding: { kind, name: 'x' },
      type,
    });
    assert.equal(e.matches(ev('Pod', 'Warning')), true);
    assert.equal(e.matches(ev('Node', 'Warning')), false);
    const a = compileSelection({
      resource: audits,
      fieldSelector: 'user.username=admin,responseStatus.code=404',
      window: HOUR,
      now: NOW,
    });
    const au = (code: number): KubeObject => ({
      apiVersion: 'v',
      kind: 'AuditEvent',
      metadata: clog().metadata,
      user: { username: 'admin' },
      responseStatus: { code },
    });
    assert.equal(a.matches(au(404)), true);
    assert.equal(a.matches(au(200)), false);
  });
});
