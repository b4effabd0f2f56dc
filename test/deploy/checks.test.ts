/**
 * The checks of test/deploy/ (./checks.ts, ./code-facts.ts) themselves: that what they read from the
 * code is there, and that each refuses what it is for (a rendering changed in one place).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkAll, EXTERNAL, server } from './checks.js';
import { agentRoute, METRICS, metricExists, OPEN_PATHS, serverRoute } from './code-facts.js';
import { components, DEPLOY, kustomizations, type Obj, README, render, renderWith } from './kustomize.js';

describe('what the checks read from the code', () => {
  test('metric names come from src/, the agent prefix included', () => {
    for (const n of [
      'kjournal_store_pending_bytes',
      'kjournal_disk_writes_paused',
      'kjournal_output_dead_letter_records_total',
      'kjournal_receiver_records_total',
      'kjournal_agent_buffer_bytes',
      'kjournal_agent_buffer_max_bytes',
    ])
      assert.ok(METRICS.has(n), n);
    assert.ok(!metricExists('kjournal_store_pending_byte'), 'a misspelt name is not found');
    assert.ok(!metricExists('kjournal_agent_buffer'), 'nor a prefix of one');
  });

  test('routes: the probes the manifests use are served, open, and the check tells a missing one', () => {
    for (const p of ['/readyz', '/livez', '/metrics']) assert.ok(serverRoute(p), p);
    assert.ok(
      OPEN_PATHS.has('/readyz') && !OPEN_PATHS.has('/metrics'),
      'auth-gate.ts: /metrics is authorized',
    );
    assert.ok(!serverRoute('/healthy'), 'an unknown path is no route');
    assert.ok(agentRoute('/ready') && agentRoute('/metrics') && !agentRoute('/readyz'));
  });

  test('the directories are found: every overlay, every component, nothing left out of deploy/README.md', () => {
    const overlays = readdirSync(join(DEPLOY, 'overlays'));
    for (const o of overlays)
      assert.ok(
        kustomizations.some((k) => k.dir === `overlays/${o}`),
        `overlays/${o} is a kustomization`,
      );
    for (const c of readdirSync(join(DEPLOY, 'components')))
      assert.ok(
        components.some((k) => k.dir === `components/${c}`),
        `components/${c} is a component`,
      );
    assert.ok(components.some((k) => k.dir === 'agent/server-auth'));
    assert.ok(
      !components.some((k) => k.dir === 'components/clickhouse/workload'),
      'a step is not applied alone',
    );
    for (const f of [...kustomizations, ...components])
      if (f.dir !== '.' && f.dir !== 'base')
        assert.ok(README.includes(`\`${f.dir}`), `deploy/README.md names ${f.dir}`);
    for (const names of Object.values(EXTERNAL))
      for (const n of names) assert.ok(README.includes(n), `deploy/README.md says how to create ${n}`);
  });
});

describe('the checks refuse what a cluster would refuse or get wrong', () => {
  const production = render(join(DEPLOY, 'overlays', 'production'));
  const agent = render(join(DEPLOY, 'overlays', 'production-agent'));
  const podMonitored = renderWith(['.'], ['agent/server-auth', 'components/pod-monitor']);
  const find = (objs: Obj[], kind: string, name?: string) =>
    objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  const cases: [string, Obj[], (objs: Obj[]) => void, RegExp][] = [
    [
      'a Service port to no container port',
      production,
      (o) => {
        find(o, 'Service', 'kjournal').spec.ports[0].targetPort = 'http';
      },
      /port https: target on/,
    ],
    [
      'a flag kjournal serve does not have',
      production,
      (o) => server(o).spec.template.spec.containers[0].args.push('--retention-days=30'),
      /--retention-days is a flag of kjournal serve/,
    ],
    [
      'a flag kjournal agent does not have',
      agent,
      (o) => find(o, 'DaemonSet').spec.template.spec.containers[0].args.push('--pods-directory=/x'),
      /--pods-directory is a flag of kjournal agent/,
    ],
    [
      'a probe path the server does not route',
      production,
      (o) => {
        server(o).spec.template.spec.containers[0].livenessProbe.httpGet.path = '/health';
      },
      /the server routes \/health/,
    ],
    [
      'a probe path that needs credentials',
      production,
      (o) => {
        server(o).spec.template.spec.containers[0].livenessProbe.httpGet.path = '/metrics';
      },
      /\/metrics answers the kubelet without credentials/,
    ],
    [
      "a probe path the agent's metrics server does not answer",
      agent,
      (o) => {
        find(o, 'DaemonSet').spec.template.spec.containers[0].readinessProbe.httpGet.path = '/readyz';
      },
      /answers \/readyz/,
    ],
    [
      'a listening port that is not declared',
      production,
      (o) => {
        const args = server(o).spec.template.spec.containers[0].args;
        args[args.findIndex((a: string) => a.startsWith('--listen='))] = '--listen=0.0.0.0:9443';
      },
      /port 9443 is a declared container port/,
    ],
    [
      'another image',
      production,
      (o) => {
        server(o).spec.template.spec.containers[0].image = 'ghcr.io/kjournal/kjournal:latest';
      },
      /the kjournal image/,
    ],
    [
      'a NetworkPolicy port the pods do not have',
      production,
      (o) => {
        find(o, 'NetworkPolicy').spec.ingress[0].ports[0].port = 'metrics';
      },
      /port metrics on StatefulSet/,
    ],
    [
      'a PodDisruptionBudget that selects nothing',
      production,
      (o) => {
        find(o, 'PodDisruptionBudget').spec.selector.matchLabels['app.kubernetes.io/component'] = 'api';
      },
      /PodDisruptionBudget kjournal\/kjournal selects pods/,
    ],
    [
      'a ServiceMonitor port the Service does not have',
      production,
      (o) => {
        find(o, 'ServiceMonitor').spec.endpoints[0].port = 'metrics';
      },
      /port metrics on Service/,
    ],
    [
      'a ServiceMonitor that selects no Service',
      agent,
      (o) => {
        find(o, 'ServiceMonitor').spec.selector.matchLabels['app.kubernetes.io/component'] = 'agent';
      },
      /selects Services/,
    ],
    [
      'plain HTTP to the HTTPS server',
      production,
      (o) => {
        find(o, 'ServiceMonitor').spec.endpoints[0].scheme = 'http';
      },
      /scheme/,
    ],
    [
      'a PodMonitor port the pods do not have',
      podMonitored,
      (o) => {
        find(o, 'PodMonitor').spec.podMetricsEndpoints[0].port = 'web';
      },
      /port web on StatefulSet/,
    ],
    [
      'a Secret nobody creates',
      podMonitored,
      (o) => {
        find(o, 'PodMonitor').spec.podMetricsEndpoints[0].authorization.credentials.name = 'prometheus-token';
      },
      /Secret kjournal\/prometheus-token is created here or by the user/,
    ],
    [
      'a namespace that is not created',
      production,
      (o) => {
        find(o, 'PrometheusRule').metadata.namespace = 'monitoring';
      },
      /its namespace is created here/,
    ],
    [
      'a selector that does not match the pod template',
      agent,
      (o) => {
        find(o, 'DaemonSet').spec.selector.matchLabels['app.kubernetes.io/component'] = 'node';
      },
      /the selector matches the pod template's labels/,
    ],
    [
      'a PriorityClass that does not exist',
      production,
      (o) => {
        server(o).spec.template.spec.priorityClassName = 'high';
      },
      /PriorityClass high exists/,
    ],
    [
      'a binding to a role that does not exist',
      production,
      (o) => {
        find(o, 'ClusterRoleBinding', 'kjournal:metrics-reader').roleRef.name = 'kjournal:metrics';
      },
      /ClusterRole kjournal:metrics/,
    ],
    [
      'a binding to a ServiceAccount nobody makes',
      production,
      (o) => {
        find(o, 'ClusterRoleBinding', 'kjournal:metrics-reader').subjects[0].namespace = 'prom';
      },
      /ServiceAccount prom\/prometheus-k8s is created here or by the user/,
    ],
    [
      'a ServiceMonitor sending a ServiceAccount token to a server without TokenReview',
      production,
      (o) => {
        const c = server(o).spec.template.spec.containers[0];
        c.args = c.args.filter((a: string) => !a.startsWith('--authentication-kubeconfig'));
      },
      /authenticates its ServiceAccount token \(--authentication-kubeconfig\)/,
    ],
    [
      'a ServiceAccount token Secret for a ServiceAccount that does not exist',
      podMonitored,
      (o) => {
        find(o, 'Secret', 'kjournal-metrics-sa-token').metadata.annotations[
          'kubernetes.io/service-account.name'
        ] = 'prometheus';
      },
      /ServiceAccount prometheus of its namespace/,
    ],
    [
      'an apiVersion the kind does not have',
      production,
      (o) => {
        find(o, 'PodDisruptionBudget').apiVersion = 'policy/v1beta1';
      },
      /PodDisruptionBudget's apiVersion/,
    ],
  ];
  test('the renderings used here check out unchanged', () => {
    for (const objs of [production, agent, podMonitored]) checkAll(objs);
  });
  for (const [what, objs, mutate, error] of cases)
    test(what, () => {
      const copy = structuredClone(objs);
      mutate(copy);
      assert.throws(() => checkAll(copy), error);
    });
});
