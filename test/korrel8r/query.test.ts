/**
 * korrel8r log queries: parsing `log:<class>:<selector>` and the container-selector translation
 * table (korrel8r's own cases, pkg/domains/log/log_test.go, with labels in sorted order).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toLogObject } from '../../src/korrel8r/objects.js';
import {
  type ContainerSelector,
  containerSelectorPlan,
  containerSelectorToLogql,
  Korrel8rQueryError,
  parseKorrel8rQuery,
} from '../../src/korrel8r/query.js';

describe('korrel8r container selector → LogQL', () => {
  const table: [string, ContainerSelector, string][] = [
    ['empty selector (korrel8r writes "}|json")', {}, '{kubernetes_namespace_name=~".+"}|json'],
    ['namespace only', { namespace: 'default' }, '{kubernetes_namespace_name="default"}|json'],
    ['pod name only', { name: 'test-pod' }, '{kubernetes_pod_name="test-pod"}|json'],
    ['single container', { containers: ['app'] }, '{kubernetes_container_name=~"app"}|json'],
    [
      'multiple containers',
      { containers: ['app', 'sidecar', 'init'] },
      '{kubernetes_container_name=~"app|sidecar|init"}|json',
    ],
    [
      'namespace and pod name',
      { namespace: 'production', name: 'web-server' },
      '{kubernetes_namespace_name="production",kubernetes_pod_name="web-server"}|json',
    ],
    [
      'namespace and containers',
      { namespace: 'staging', containers: ['web', 'db'] },
      '{kubernetes_namespace_name="staging",kubernetes_container_name=~"web|db"}|json',
    ],
    [
      'single label',
      { labels: { app: 'nginx' } },
      '{kubernetes_namespace_name=~".+"}|json|kubernetes_labels_app="nginx"',
    ],
    [
      'labels with special characters, sorted',
      { namespace: 'ns', labels: { 'deployment-type': 'canary', 'app.kubernetes.io/name': 'nginx' } },
      '{kubernetes_namespace_name="ns"}|json|kubernetes_labels_app_kubernetes_io_name="nginx"|kubernetes_labels_deployment_type="canary"',
    ],
    [
      'all fields',
      {
        namespace: 'production',
        name: 'web-app-12345',
        labels: { tier: 'web', app: 'web', 'release.id': 'v1.2.3' },
        containers: ['web', 'logging-agent'],
        fields: { 'spec.nodeName': 'n1' },
      },
      '{kubernetes_namespace_name="production",kubernetes_pod_name="web-app-12345",kubernetes_container_name=~"web|logging-agent"}|json|kubernetes_labels_app="web"|kubernetes_labels_release_id="v1.2.3"|kubernetes_labels_tier="web"',
    ],
    [
      'empty containers list',
      { namespace: 'test', containers: [] },
      '{kubernetes_namespace_name="test"}|json',
    ],
    [
      'container names are not escaped',
      { containers: ['app-1.2', 'sidecar[prod]', 'init+container'] },
      '{kubernetes_container_name=~"app-1.2|sidecar[prod]|init+container"}|json',
    ],
    ['quotes are Go-quoted', { namespace: 'a"b' }, '{kubernetes_namespace_name="a\\"b"}|json'],
  ];
  for (const [name, sel, logql] of table) {
    test(name, () => assert.equal(containerSelectorToLogql(sel), logql));
  }

  test('the plan: Viaq matchers (escaped for exact names), fields, pod labels left as attributes', () => {
    assert.deepEqual(
      containerSelectorPlan({
        namespace: 'ns',
        containers: ['a.b', 'c'],
        labels: { 'app.kubernetes.io/name': 'x' },
        fields: { 'spec.nodeName': 'n1', 'status.phase': 'Running' },
      }),
      {
        matchers: [
          { name: 'kubernetes_namespace_name', op: '=', value: 'ns' },
          { name: 'kubernetes_container_name', op: '=~', value: 'a\\.b|c' },
          { name: 'kubernetes_host', op: '=', value: 'n1' },
        ],
        attributes: { kubernetes_labels_app_kubernetes_io_name: 'x' },
      },
    );
  });
});

describe('korrel8r query strings', () => {
  test('container selectors (the documentation examples)', () => {
    assert.deepEqual(
      parseKorrel8rQuery(
        'log:application:{ "namespace": "something", "labels":{"app": "myapp"}, "containers":["foo", "bar"]}',
      ),
      {
        class: 'application',
        kind: 'container',
        selector: { namespace: 'something', labels: { app: 'myapp' }, containers: ['foo', 'bar'] },
        logql:
          '{kubernetes_namespace_name="something",kubernetes_container_name=~"foo|bar"}|json|kubernetes_labels_app="myapp"',
      },
    );
    assert.deepEqual(
      parseKorrel8rQuery(
        'log:infrastructure:{ "namespace": "openshift-kube-apiserver", "containers":["kube-apiserver"]}',
      ),
      {
        class: 'infrastructure',
        kind: 'container',
        selector: { namespace: 'openshift-kube-apiserver', containers: ['kube-apiserver'] },
        logql:
          '{kubernetes_namespace_name="openshift-kube-apiserver",kubernetes_container_name=~"kube-apiserver"}|json',
      },
    );
  });

  test('LogQL selectors pass through', () => {
    const q =
      '{kubernetes_namespace_name="openshift-cluster-version", kubernetes_pod_name=~".*-operator-.*"}';
    assert.deepEqual(parseKorrel8rQuery(`log:infrastructure:${q}`), {
      class: 'infrastructure',
      kind: 'logql',
      logql: q,
    });
  });

  test('errors', () => {
    assert.throws(() => parseKorrel8rQuery('k8s:Pod:{}'), Korrel8rQueryError);
    assert.throws(() => parseKorrel8rQuery('log:nope:{}'), /unknown log class "nope"/);
    assert.throws(() => parseKorrel8rQuery('log:audit:'), /empty selector/);
    assert.throws(() => parseKorrel8rQuery('log:audit:{"pod":"x"}'), /unknown field "pod"/);
    assert.throws(() => parseKorrel8rQuery('log:audit:{"containers":"x"}'), /array of strings/);
  });
});

describe('korrel8r log objects', () => {
  test('attributes with safe names, Viaq and OTEL, body and RFC 3339 times', () => {
    assert.deepEqual(
      toLogObject({
        labels: {
          namespace: 'shop',
          pod: 'p-1',
          container: 'app',
          kind: 'containerlog',
          class: 'application',
        },
        attributes: { 'trace.id': 't1' },
        body: '{"level":"info","http":{"status":200}}',
        timestamp: 1_795_000_000_123_456_789n,
        observedTimestamp: 1_795_000_001_000_000_000n,
      }),
      {
        level: 'info',
        http_status: '200',
        trace_id: 't1',
        namespace: 'shop',
        pod: 'p-1',
        container: 'app',
        kind: 'containerlog',
        class: 'application',
        kubernetes_namespace_name: 'shop',
        k8s_namespace_name: 'shop',
        kubernetes_pod_name: 'p-1',
        k8s_pod_name: 'p-1',
        kubernetes_container_name: 'app',
        k8s_container_name: 'app',
        body: '{"level":"info","http":{"status":200}}',
        timestamp: '2026-11-18T11:06:40.123456789Z',
        observed_timestamp: '2026-11-18T11:06:41Z',
      },
    );
  });
});

test('selector values are quoted as korrel8r quotes them (Go %q), not as JSON', () => {
  const q = containerSelectorToLogql({ namespace: 'a\u007fb', labels: { app: 'x\u00ady' } });
  assert.equal(q, '{kubernetes_namespace_name="a\\x7fb"}|json|kubernetes_labels_app="x\\u00ady"');
});
