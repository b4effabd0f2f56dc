import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aliasesOf,
  classForNamespace,
  flattenJson,
  flattenJsonBody,
  formatRfc3339Nano,
  kubeMeta,
  labelValue,
  normalizeLabels,
  parseRfc3339Nano,
  recordAttributes,
  safeName,
  viaqAndOtel,
} from '../../src/model/index.js';

test('safe names replace everything outside [A-Za-z0-9_:] with _', () => {
  assert.equal(safeName('app.kubernetes.io/name'), 'app_kubernetes_io_name');
  assert.equal(safeName('a:b_c9'), 'a:b_c9');
  assert.equal(safeName('héllo wörld'), 'h_llo_w_rld');
  assert.equal(safeName('9lives'), '_9lives', 'a label may not start with a digit');
});

test('JSON bodies flatten with nested paths joined by _', () => {
  assert.deepEqual(flattenJson({ a: { b: { c: 1 } }, 'x.y': true, list: ['p', { q: null }], s: 'str' }), {
    a_b_c: '1',
    x_y: 'true',
    list_0: 'p',
    list_1_q: '',
    s: 'str',
  });
  assert.deepEqual(flattenJsonBody('{"level":"info","http":{"status":200}}'), {
    level: 'info',
    http_status: '200',
  });
  assert.equal(flattenJsonBody('not json'), undefined);
  assert.equal(flattenJsonBody('{broken'), undefined);
  assert.equal(flattenJsonBody('[1,2]'), undefined);
});

test('korrel8r namespace classes', () => {
  for (const ns of ['default', 'kube', 'openshift', 'kube-system', 'openshift-monitoring']) {
    assert.equal(classForNamespace(ns), 'infrastructure', ns);
  }
  for (const ns of ['shop', 'kubernetes', 'openshiftx', 'my-kube-system']) {
    assert.equal(classForNamespace(ns), 'application', ns);
  }
});

test('kind and class are derived and kept as labels', () => {
  assert.deepEqual(normalizeLabels({ namespace: 'shop', pod: 'p' }), {
    namespace: 'shop',
    pod: 'p',
    kind: 'containerlog',
    class: 'application',
  });
  assert.equal(
    normalizeLabels({ k8s_namespace_name: 'kube-system', k8s_pod_name: 'x' }).class,
    'infrastructure',
  );
  assert.deepEqual(normalizeLabels({ node: 'n1', source: 'journal' }), {
    node: 'n1',
    source: 'journal',
    kind: 'log',
    class: 'infrastructure',
  });
  assert.equal(normalizeLabels({ kind: 'auditevent' }).class, 'audit');
  assert.equal(normalizeLabels({ log_type: 'audit', namespace: 'x' }).class, 'audit');
  assert.equal(
    normalizeLabels({ openshift_log_type: 'infrastructure', namespace: 'shop', pod: 'p' }).class,
    'infrastructure',
  );
  assert.equal(normalizeLabels({ 'app.kubernetes.io/name': 'x' }).app_kubernetes_io_name, 'x');
});

test('Kubernetes metadata is read under plain, Viaq and OTEL names', () => {
  const spellings: Record<string, string>[] = [
    { namespace: 'ns', pod: 'p', container: 'c', node: 'n' },
    {
      kubernetes_namespace_name: 'ns',
      kubernetes_pod_name: 'p',
      kubernetes_container_name: 'c',
      kubernetes_host: 'n',
    },
    { k8s_namespace_name: 'ns', k8s_pod_name: 'p', k8s_container_name: 'c', k8s_node_name: 'n' },
  ];
  for (const labels of spellings) {
    const meta = kubeMeta(labels);
    assert.deepEqual([meta.namespace, meta.pod, meta.container, meta.node], ['ns', 'p', 'c', 'n']);
    assert.equal(labelValue(labels, 'kubernetes_namespace_name'), 'ns');
    assert.equal(labelValue(labels, 'k8s_pod_name'), 'p');
    assert.equal(labelValue(labels, 'container'), 'c');
  }
  assert.equal(labelValue({ kubernetes_labels_app: 'web' }, 'k8s_pod_labels_app'), 'web');
  assert.deepEqual(aliasesOf('log_type'), ['log_type', 'class', 'openshift_log_type']);
  const both = viaqAndOtel(kubeMeta({ namespace: 'ns', k8s_pod_labels_app: 'web' }));
  assert.deepEqual(both, {
    kubernetes_namespace_name: 'ns',
    k8s_namespace_name: 'ns',
    kubernetes_labels_app: 'web',
    k8s_pod_labels_app: 'web',
  });
});

test('RFC 3339 with nanoseconds round-trips exactly', () => {
  const ns = 1_763_900_000_123_456_789n;
  assert.equal(formatRfc3339Nano(ns), '2025-11-23T12:13:20.123456789Z');
  assert.equal(parseRfc3339Nano('2025-11-23T12:13:20.123456789Z'), ns);
  assert.equal(parseRfc3339Nano('2025-11-23T14:13:20.123456789+02:00'), ns);
  assert.equal(parseRfc3339Nano('2025-11-23T12:13:20Z'), 1_763_900_000_000_000_000n);
  assert.equal(parseRfc3339Nano('2025-11-23T12:13:20.1Z'), 1_763_900_000_100_000_000n);
  assert.equal(formatRfc3339Nano(1_763_900_000_000_000_000n), '2025-11-23T12:13:20Z');
  assert.equal(parseRfc3339Nano('yesterday'), undefined);
  assert.equal(
    parseRfc3339Nano('0099-01-01T00:00:00Z'),
    -59_042_995_200_000_000_000n,
    'years before 100 stay themselves',
  );
});

test('record attributes: labels, metadata, flattened JSON body, Viaq and OTEL names', () => {
  const attrs = recordAttributes(
    { namespace: 'shop', pod: 'p-1', kind: 'containerlog', class: 'application' },
    { trace_id: 't-1' },
    '{"level":"error","http":{"status":503},"user.name":"ana"}',
  );
  assert.deepEqual(attrs, {
    level: 'error',
    http_status: '503',
    user_name: 'ana',
    trace_id: 't-1',
    namespace: 'shop',
    pod: 'p-1',
    kind: 'containerlog',
    class: 'application',
    kubernetes_namespace_name: 'shop',
    k8s_namespace_name: 'shop',
    kubernetes_pod_name: 'p-1',
    k8s_pod_name: 'p-1',
  });
  assert.deepEqual(recordAttributes({ app: 'x' }, {}, 'plain text'), { app: 'x' });
});
