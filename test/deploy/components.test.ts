/**
 * Every kustomization under deploy/ (the entry points, each overlay) and every component applied on
 * the base it is made for, found by listing the directories (a new one is covered without editing
 * this file), rendered with the real `kubectl kustomize` and checked (./checks.ts); then what
 * particular components and overlays promise.
 */
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { argMap, checkAll, checkRules, id, selected, selects, server, serverArgs } from './checks.js';
import { exprMetrics, sources } from './code-facts.js';
import {
  baseOf,
  components,
  DEPLOY,
  kustomizations,
  type Obj,
  README,
  render,
  renderWith,
} from './kustomize.js';

describe('every kustomization under deploy/ renders and checks out', () => {
  for (const k of kustomizations)
    test(k.dir === '.' ? 'deploy/' : `deploy/${k.dir}`, () => {
      checkAll(render(join(DEPLOY, k.dir)));
    });
});

describe("every monitor component lets kube-prometheus' Prometheus discover its targets", () => {
  // kube-prometheus' Prometheus may list Services, Endpoints and Pods only in default, kube-system
  // and monitoring: without a Role in the monitor's namespace it finds no target at all.
  for (const c of components.filter((c) => /(service|pod)-monitor$/.test(c.dir)))
    test(`deploy/${c.dir}`, () => {
      const objs = renderWith([baseOf(c.dir)], [c.dir]);
      const monitor = objs.find((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
      const ns = monitor.metadata.namespace;
      const role = objs.find((o) => o.kind === 'Role' && o.metadata.name === 'kjournal:prometheus-discovery');
      assert.equal(role?.metadata.namespace, ns, 'the Role is in the namespace of the monitor');
      const core = role.rules.find((r: { apiGroups: string[] }) => r.apiGroups.includes(''));
      for (const res of ['services', 'endpoints', 'pods']) assert.ok(core.resources.includes(res), res);
      for (const verb of ['get', 'list', 'watch']) assert.ok(core.verbs.includes(verb), verb);
      const binding = objs.find(
        (o) => o.kind === 'RoleBinding' && o.roleRef.name === 'kjournal:prometheus-discovery',
      );
      assert.equal(binding.metadata.namespace, ns);
      assert.deepEqual(binding.subjects, [
        { kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' },
      ]);
    });
});

describe('every component, applied on the base it is for, renders and checks out', () => {
  for (const c of components)
    test(`deploy/${c.dir} on deploy/${baseOf(c.dir) === '.' ? '' : `${baseOf(c.dir)}/`}`, () => {
      const base = baseOf(c.dir);
      const without = render(join(DEPLOY, base));
      const objs = renderWith([base], [c.dir]);
      checkAll(objs);
      assert.notDeepEqual(objs, without, 'the component changes something');
    });
});

describe('the components combine: all of them at once, one of each pair of alternatives', () => {
  const on = (base: string) => components.filter((c) => baseOf(c.dir) === base).map((c) => c.dir);
  /** Alternatives: the same thing two ways; together they would scrape twice (and collide). */
  const without = (list: string[], ...drop: string[]) => list.filter((c) => !drop.includes(c));
  const cases: [string, string, string[]][] = [
    [
      'the embedded store, ServiceMonitor',
      '.',
      without(on('.'), 'components/pod-monitor', 'components/clickhouse'),
    ],
    ['ClickHouse, PodMonitor', '.', without(on('.'), 'components/service-monitor')],
    ['the agent, ServiceMonitor', 'agent', without(on('agent'), 'components/agent-pod-monitor')],
    ['the agent, PodMonitor', 'agent', without(on('agent'), 'components/agent-service-monitor')],
  ];
  for (const [what, base, list] of cases)
    test(`${what}: ${list.map((c) => basename(c)).join(', ')}`, () => {
      assert.ok(list.length >= 2, 'several components');
      const objs = renderWith([base], list);
      checkAll(objs);
      // The other order too: nothing depends on coming first.
      const reversed = renderWith([base], [...list].reverse());
      checkAll(reversed);
      assert.deepEqual(reversed.map(id).sort(), objs.map(id).sort());
    });
});

// ---- what particular components and overlays promise ---------------------------------------------

describe('components that change the server pod work with either workload, in either order', () => {
  const checks: Record<string, (w: Obj) => void> = {
    'components/priority-class': (w) =>
      assert.equal(w.spec.template.spec.priorityClassName, 'kjournal-server'),
    'components/resources-large': (w) => {
      assert.equal(w.spec.template.spec.containers[0].resources.limits.memory, '4Gi');
      assert.equal(argMap(w.spec.template.spec.containers[0].args).get('--query-memory-limit'), '1GiB');
    },
    'agent/server-auth': (w) =>
      assert.ok(argMap(w.spec.template.spec.containers[0].args).has('--token-auth-file')),
  };
  for (const [component, check] of Object.entries(checks))
    test(component, () => {
      for (const list of [
        [component],
        [component, 'components/clickhouse'],
        ['components/clickhouse', component],
      ]) {
        const objs = renderWith(['.'], list);
        const w = server(objs);
        assert.equal(
          w.kind,
          list.includes('components/clickhouse') ? 'Deployment' : 'StatefulSet',
          list.join(' + '),
        );
        check(w);
        checkAll(objs);
        // The init container and the other flags stay.
        assert.equal(serverArgs(objs).get('--tls-cert-file'), '/etc/kjournal/tls/tls.crt');
        assert.ok(w.spec.template.spec.initContainers.some((c: Obj) => c.name === 'front-proxy-ca'));
      }
    });
});

describe('components/clickhouse', () => {
  test('deploy/overlays/clickhouse is the base plus the component, and renders as before it was one', () => {
    const objs = render(join(DEPLOY, 'overlays', 'clickhouse'));
    assert.deepEqual(renderWith(['base'], ['components/clickhouse']), objs);
    const w = server(objs);
    assert.equal(w.kind, 'Deployment');
    assert.equal(w.spec.replicas, 2);
    assert.equal(w.metadata.labels['app.kubernetes.io/part-of'], 'kjournal');
    assert.ok(serverArgs(objs).has('--clickhouse-url'));
    assert.ok(!objs.some((o) => o.kind === 'Service' && o.metadata.name === 'kjournal-headless'));
  });
});

describe('components/persistence', () => {
  test('100Gi on the default class; a patch of your own after it sets the class and size (deploy/README.md)', () => {
    const objs = renderWith(['.'], ['components/persistence']);
    const claim = server(objs).spec.volumeClaimTemplates[0].spec;
    assert.equal(claim.resources.requests.storage, '100Gi');
    assert.equal(claim.storageClassName, undefined, "the cluster's default class");
    const patch = [
      'patches:',
      '  - target: {kind: StatefulSet, name: kjournal}',
      '    patch: |-',
      '      - op: add',
      '        path: /spec/volumeClaimTemplates/0/spec/storageClassName',
      '        value: gp3',
      '      - op: replace',
      '        path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage',
      '        value: 500Gi',
    ].join('\n');
    assert.ok(
      README.includes('path: /spec/volumeClaimTemplates/0/spec/storageClassName'),
      'the README shows it',
    );
    const mine = server(renderWith(['.'], ['components/persistence'], patch)).spec.volumeClaimTemplates[0]
      .spec;
    assert.equal(mine.storageClassName, 'gp3');
    assert.equal(mine.resources.requests.storage, '500Gi');
  });
});

describe('metrics: the scraper identity and its RBAC', () => {
  test('kjournal:metrics-reader grants GET /metrics, the SubjectAccessReview kjournal sends for it', () => {
    const objs = render(DEPLOY);
    const role = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'kjournal:metrics-reader');
    assert.deepEqual(role.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    // What the server asks: a non-resource request, the lower-cased method on the path (auth/types.ts).
    const types = sources.get('src/auth/types.ts') ?? '';
    assert.match(types, /nonResourceAttributes\(user: UserInfo, method: string, path: string\)/);
    assert.match(types, /verb: method\.toLowerCase\(\)/);
    assert.match(
      sources.get('src/auth/sar.ts') ?? '',
      /nonResourceAttributes = \{ path: a\.path, verb: a\.verb \}/,
    );
    assert.ok(
      !objs.some((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'kjournal:metrics-reader'),
      'bound by a component only',
    );
  });

  test('base: the server checks bearer tokens with TokenReview and may send them (system:auth-delegator)', () => {
    const objs = render(DEPLOY);
    const args = serverArgs(objs);
    assert.ok(args.get('--authentication-kubeconfig'), '--authentication-kubeconfig is set');
    assert.equal(
      args.get('--authentication-kubeconfig'),
      args.get('--authorization-kubeconfig'),
      "one kubeconfig, the pod's ServiceAccount, for both reviews",
    );
    const delegator = objs.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'system:auth-delegator',
    );
    // kube's bootstrap policy: system:auth-delegator = create tokenreviews and subjectaccessreviews.
    assert.deepEqual(delegator.subjects, [
      { kind: 'ServiceAccount', name: 'kjournal', namespace: 'kjournal' },
    ]);
    assert.equal(server(objs).spec.template.spec.serviceAccountName, 'kjournal');
  });

  test("components/service-monitor: Prometheus' own ServiceAccount token, bound to kjournal:metrics-reader", () => {
    const objs = renderWith(['.'], ['components/service-monitor']);
    const binding = objs.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'kjournal:metrics-reader',
    );
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' },
    ]);
    const ep = objs.find((o) => o.kind === 'ServiceMonitor').spec.endpoints[0];
    assert.equal(ep.bearerTokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(ep.authorization, undefined);
    assert.ok(serverArgs(objs).has('--authentication-kubeconfig'), 'the server checks it with a TokenReview');
    assert.ok(!serverArgs(objs).has('--token-auth-file'), 'no token file needed');
    // The README's patch for another Prometheus' ServiceAccount renders and names it.
    const patch = [
      'patches:',
      '  - target: {kind: ClusterRoleBinding, name: "kjournal:metrics-reader"}',
      '    patch: |-',
      '      - op: replace',
      '        path: /subjects/0',
      '        value: {kind: ServiceAccount, name: kube-prometheus-stack-prometheus, namespace: monitoring}',
    ].join('\n');
    assert.ok(README.includes('path: /subjects/0'), 'the README shows it');
    assert.ok(README.includes('monitoring/prometheus-k8s'), 'the README names the default');
    const mine = renderWith(['.'], ['components/service-monitor'], patch).find(
      (o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'kjournal:metrics-reader',
    );
    assert.equal(mine.subjects[0].name, 'kube-prometheus-stack-prometheus');
  });

  test('components/pod-monitor: a ServiceAccount token Secret of its own, bound to kjournal:metrics-reader', () => {
    const objs = renderWith(['.'], ['components/pod-monitor']);
    const binding = objs.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'kjournal:metrics-reader',
    );
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'kjournal-metrics', namespace: 'kjournal' },
    ]);
    const ep = objs.find((o) => o.kind === 'PodMonitor').spec.podMetricsEndpoints[0];
    assert.deepEqual(ep.authorization, {
      type: 'Bearer',
      credentials: { name: 'kjournal-metrics-sa-token', key: 'token' },
    });
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'kjournal-metrics-sa-token');
    assert.equal(secret.type, 'kubernetes.io/service-account-token');
    assert.equal(
      secret.metadata.namespace,
      'kjournal',
      "the PodMonitor's namespace, where the operator reads it",
    );
    assert.equal(secret.metadata.annotations['kubernetes.io/service-account.name'], 'kjournal-metrics');
    assert.ok(serverArgs(objs).has('--authentication-kubeconfig'));
  });

  test('the static token of --token-auth-file still works as the README says (the user kjournal:metrics)', () => {
    assert.ok(README.includes(',kjournal:metrics,kjournal:metrics'), 'the README gives the tokens.csv row');
    assert.ok(README.includes('--clusterrole=kjournal:metrics-reader --user=kjournal:metrics'));
  });

  test('the server ServiceMonitor keeps one target per pod (the headless Service selects the same pods)', () => {
    const objs = renderWith(['.'], ['components/service-monitor']);
    const sm = objs.find((o) => o.kind === 'ServiceMonitor');
    const services = objs.filter((o) => o.kind === 'Service' && selects(sm.spec.selector, o.metadata.labels));
    assert.deepEqual(services.map((s) => s.metadata.name).sort(), ['kjournal', 'kjournal-headless']);
    const keep = sm.spec.endpoints[0].relabelings.find((r: Obj) => r.action === 'keep');
    assert.deepEqual(keep.sourceLabels, ['__meta_kubernetes_service_name']);
    assert.deepEqual(
      services
        .filter((s) => new RegExp(`^(?:${keep.regex})$`).test(s.metadata.name))
        .map((s) => s.metadata.name),
      ['kjournal'],
    );
  });
});

describe('components/prometheus-rules', () => {
  const rule = renderWith(['.'], ['components/prometheus-rules']).find((o) => o.kind === 'PrometheusRule');
  const exprs = rule.spec.groups.flatMap((g: Obj) => g.rules.map((r: Obj) => String(r.expr))) as string[];

  test('alerts on each fault of issue 19, by the metric that shows it', () => {
    for (const m of [
      'kjournal_store_pending_bytes', // pending bytes growing
      'kjournal_store_quarantined_files', // conversion failures
      'kjournal_disk_writes_paused', // disk watermark reached
      'kjournal_agent_buffer_bytes', // agent buffer filling
      'kjournal_agent_buffer_full',
      'kjournal_output_buffer_bytes', // an output's buffer filling
      'kjournal_output_dead_letter_records_total', // output dead letters
    ])
      assert.ok(
        exprs.some((e) => exprMetrics(e).includes(m)),
        m,
      );
  });

  test('the metric check refuses a name kjournal does not export', () => {
    const bad = structuredClone(rule);
    bad.spec.groups[0].rules[0].expr = 'kjournal_store_pending_bytez > 0';
    assert.throws(() => checkRules(bad), /kjournal_store_pending_bytez is a metric kjournal exports/);
  });
});

describe('deploy/agent with its components', () => {
  test('components/agent-node-critical: system-node-critical, and no PriorityClass of our own left', () => {
    const objs = renderWith(['agent'], ['components/agent-node-critical']);
    const ds = objs.find((o) => o.kind === 'DaemonSet');
    assert.equal(ds.spec.template.spec.priorityClassName, 'system-node-critical');
    assert.ok(!objs.some((o) => o.kind === 'PriorityClass'));
  });

  test('the metrics Services reach both the DaemonSet and the events watcher on --metrics', () => {
    const objs = render(join(DEPLOY, 'agent'));
    const svcs = objs.filter((o) => o.kind === 'Service');
    const reached = new Set(
      svcs.flatMap((s) =>
        selected(objs, { matchLabels: s.spec.selector }, ['kjournal-agent'], id(s)).map((p) => p.owner.kind),
      ),
    );
    assert.deepEqual([...reached].sort(), ['DaemonSet', 'Deployment']);
    for (const s of svcs) assert.equal(s.spec.clusterIP, 'None', `${id(s)}: headless, one target per pod`);
  });
});

describe('overlays', () => {
  test('production: persistence, PDB, NetworkPolicy, ServiceMonitor, priority class, alerts, token file, TokenReview', () => {
    const objs = render(join(DEPLOY, 'overlays', 'production'));
    for (const kind of [
      'PodDisruptionBudget',
      'NetworkPolicy',
      'ServiceMonitor',
      'PrometheusRule',
      'PriorityClass',
    ])
      assert.ok(
        objs.some((o) => o.kind === kind),
        kind,
      );
    const w = server(objs);
    assert.equal(w.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '100Gi');
    assert.equal(w.spec.template.spec.priorityClassName, 'kjournal-server');
    assert.ok(serverArgs(objs).has('--token-auth-file'), "the agents' tokens");
    assert.ok(serverArgs(objs).has('--authentication-kubeconfig'), "Prometheus' ServiceAccount token");
  });

  test('small: 5Gi, 7 days, smaller requests, the base limits', () => {
    const objs = render(join(DEPLOY, 'overlays', 'small'));
    const w = server(objs);
    assert.equal(w.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi');
    const args = w.spec.template.spec.containers[0].args as string[];
    assert.deepEqual(
      args.filter((a) => a.startsWith('--retention')),
      ['--retention=7d'],
      'one --retention',
    );
    assert.equal(w.spec.template.spec.containers[0].resources.requests.memory, '256Mi');
    assert.equal(w.spec.template.spec.containers[0].resources.limits.memory, '1Gi');
  });

  test('production-agent: deploy/agent with its ServiceMonitor', () => {
    const objs = render(join(DEPLOY, 'overlays', 'production-agent'));
    assert.ok(objs.some((o) => o.kind === 'ServiceMonitor' && o.metadata.namespace === 'kjournal-agent'));
    assert.ok(objs.some((o) => o.kind === 'DaemonSet'));
  });
});
