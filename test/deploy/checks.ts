/**
 * @module The checks of test/deploy/ on a rendering of deploy/ (`kubectl kustomize` output): what a
 * cluster would refuse or silently get wrong (kinds and versions, names, namespaces, selectors that
 * select pods, ports of Services, PodDisruptionBudgets, NetworkPolicies, ServiceMonitors and
 * PodMonitors, references to objects that exist or that the user creates) and what the manifests
 * ask of kjournal (the image, flags, listening ports, probe paths, alert metrics: ./code-facts.ts).
 * kubectl's own `--dry-run=client` validation needs the OpenAPI of a live server, so the shapes the
 * project relies on are checked here. Each check throws an AssertionError naming the object.
 */
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { parseDuration } from '../../src/go/duration.js';
import {
  agentRoute,
  exprMetrics,
  flagsOf,
  IMAGE,
  metricExists,
  OPEN_PATHS,
  serverRoute,
} from './code-facts.js';
import type { Obj } from './kustomize.js';

/**
 * Objects the manifests reference but never create: the user makes them (deploy/README.md says
 * how, which is checked below).
 */
export const EXTERNAL: Record<string, readonly string[]> = {
  Secret: ['kjournal-tls', 'kjournal-agent-tokens', 'kjournal-agent-token', 'kjournal-clickhouse'],
  ConfigMap: ['kjournal-server-ca'],
  // namespace/name: Prometheus' own ServiceAccount, made by kube-prometheus (components/service-monitor).
  ServiceAccount: ['monitoring/prometheus-k8s'],
};
/** The ServiceAccount token the kubelet mounts into every pod (Prometheus' own, for bearerTokenFile). */
export const SA_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const BUILTIN_CLUSTER_ROLES = new Set(['system:auth-delegator', 'view', 'edit', 'admin', 'cluster-admin']);
const BUILTIN_ROLES = new Set(['kube-system/extension-apiserver-authentication-reader']);
const BUILTIN_PRIORITY_CLASSES = new Set(['system-node-critical', 'system-cluster-critical']);

export const KINDS: Record<string, { apiVersion: string; namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
  ConfigMap: { apiVersion: 'v1', namespaced: true },
  Secret: { apiVersion: 'v1', namespaced: true },
  Service: { apiVersion: 'v1', namespaced: true },
  PersistentVolumeClaim: { apiVersion: 'v1', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  APIService: { apiVersion: 'apiregistration.k8s.io/v1', namespaced: false },
  PriorityClass: { apiVersion: 'scheduling.k8s.io/v1', namespaced: false },
  PodDisruptionBudget: { apiVersion: 'policy/v1', namespaced: true },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', namespaced: true },
  ServiceMonitor: { apiVersion: 'monitoring.coreos.com/v1', namespaced: true },
  PodMonitor: { apiVersion: 'monitoring.coreos.com/v1', namespaced: true },
  PrometheusRule: { apiVersion: 'monitoring.coreos.com/v1', namespaced: true },
  Issuer: { apiVersion: 'cert-manager.io/v1', namespaced: true },
  Certificate: { apiVersion: 'cert-manager.io/v1', namespaced: true },
};
export const WORKLOADS = new Set(['StatefulSet', 'Deployment', 'DaemonSet']);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RBAC_NAME = /^[a-z0-9][a-z0-9:.-]*$/;

export const id = (o: Obj) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
export const has = (objs: Obj[], kind: string, name: string, ns?: string) =>
  objs.some((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns);

/** Whether a label selector (matchLabels, matchExpressions with In/NotIn/Exists) selects `labels`. */
export function selects(selector: Obj, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const v = labels[e.key];
    if (e.operator === 'In' && !(v !== undefined && e.values.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && e.values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

export interface Pod {
  readonly owner: Obj;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly spec: Obj;
}
export const podsOf = (objs: Obj[]): Pod[] =>
  objs
    .filter((o) => WORKLOADS.has(o.kind))
    .map((o) => ({
      owner: o,
      namespace: o.metadata.namespace,
      labels: o.spec.template.metadata.labels ?? {},
      spec: o.spec.template.spec,
    }));
const containerPorts = (pod: Pod): { name?: string; containerPort: number }[] =>
  (pod.spec.containers as Obj[]).flatMap((c) => c.ports ?? []);
/** Whether a port (a name or a number) is a container port of the pod. */
export const podHasPort = (pod: Pod, port: string | number): boolean =>
  containerPorts(pod).some((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));

/** `--name=value` and `--name value` as a map; positional arguments under ''. */
export function argMap(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      out.set('', out.has('') ? `${out.get('')} ${a}` : a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('--')) out.set(a, args[++i]!);
    else out.set(a, 'true');
  }
  return out;
}

/** The flags whose value is an address the process listens on. */
const LISTEN_FLAGS = /^--(listen|metrics|syslog-(tcp|udp|tls)|forward-listen|gelf-(tcp|udp))$/;

function checkMeta(objs: Obj[]): void {
  const namespaces = new Set(objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
  for (const o of objs) {
    const kind = KINDS[o.kind];
    assert.ok(kind, `${o.kind}: a kind these manifests may use`);
    assert.equal(o.apiVersion, kind.apiVersion, `${o.kind}'s apiVersion`);
    const name = o.metadata?.name ?? '';
    const re = o.kind.includes('Role')
      ? RBAC_NAME
      : ['Namespace', 'Service'].includes(o.kind)
        ? DNS_LABEL
        : DNS_SUBDOMAIN;
    assert.match(name, re, `${o.kind} name ${JSON.stringify(name)}`);
    assert.ok(name.length <= 253);
    if (kind.namespaced) {
      const ns = o.metadata.namespace;
      assert.ok(ns, `${id(o)} has a namespace`);
      assert.ok(namespaces.has(ns) || ns === 'kube-system', `${id(o)}: its namespace is created here`);
    } else assert.equal(o.metadata.namespace, undefined, `${id(o)} is cluster-scoped`);
    for (const [k, v] of Object.entries(o.metadata.labels ?? {}))
      assert.equal(typeof v, 'string', `${id(o)}: label ${k} is a string`);
  }
}

function checkReference(objs: Obj[], kind: 'Secret' | 'ConfigMap', name: string, ns: string, from: string) {
  assert.ok(
    has(objs, kind, name, ns) || EXTERNAL[kind]!.includes(name),
    `${from}: ${kind} ${ns}/${name} is created here or by the user (EXTERNAL)`,
  );
}

function checkWorkloads(objs: Obj[]): void {
  for (const pod of podsOf(objs)) {
    const w = pod.owner;
    const where = id(w);
    const sel = w.spec.selector;
    assert.ok(Object.keys(sel?.matchLabels ?? {}).length > 0, `${where}: a selector`);
    assert.ok(selects(sel, pod.labels), `${where}: the selector matches the pod template's labels`);
    assert.equal(w.spec.template.metadata.namespace, undefined);
    const spec = pod.spec;
    if (spec.serviceAccountName)
      assert.ok(
        has(objs, 'ServiceAccount', spec.serviceAccountName, pod.namespace),
        `${where}: ServiceAccount`,
      );
    if (spec.priorityClassName)
      assert.ok(
        has(objs, 'PriorityClass', spec.priorityClassName) ||
          BUILTIN_PRIORITY_CLASSES.has(spec.priorityClassName),
        `${where}: PriorityClass ${spec.priorityClassName} exists`,
      );
    const volumes = new Map<string, Obj>((spec.volumes ?? []).map((v: Obj) => [v.name, v]));
    for (const t of w.spec.volumeClaimTemplates ?? []) volumes.set(t.metadata.name, { claim: t });
    for (const v of spec.volumes ?? []) {
      if (v.secret)
        checkReference(objs, 'Secret', v.secret.secretName, pod.namespace, `${where} volume ${v.name}`);
      if (v.configMap)
        checkReference(objs, 'ConfigMap', v.configMap.name, pod.namespace, `${where} volume ${v.name}`);
      if (v.persistentVolumeClaim)
        assert.ok(
          has(objs, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName, pod.namespace),
          where,
        );
      if (v.hostPath) assert.match(v.hostPath.path, /^\//, `${where}: hostPath ${v.name} is absolute`);
    }
    const portNames = containerPorts(pod).flatMap((p) => (p.name ? [p.name] : []));
    assert.equal(new Set(portNames).size, portNames.length, `${where}: port names are unique`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as Obj[]) {
      const at = `${where} container ${c.name}`;
      assert.equal(c.image, IMAGE, `${at}: the kjournal image`);
      for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${at}: volume ${m.name} exists`);
      const env = new Set((c.env ?? []).map((e: Obj) => e.name));
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
        if (ref)
          checkReference(
            objs,
            e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap',
            ref.name,
            pod.namespace,
            `${at} env ${e.name}`,
          );
      }
      for (const a of c.args ?? [])
        for (const m of String(a).matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g))
          assert.ok(env.has(m[1]), `${at}: $(${m[1]}) in ${a} is in env`);
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
        const get = probe.httpGet;
        assert.ok(get, `${at}: HTTP probes`);
        assert.ok(podHasPort(pod, get.port), `${at}: probe port ${get.port} is a container port`);
      }
      if (c.args === undefined) continue;
      // kjournal's own commands: every flag exists, every listening port is declared, every probe
      // path is served.
      const args = argMap(c.args);
      const command = args.get('')?.split(' ')[0] ?? '';
      assert.ok(['serve', 'agent'].includes(command), `${at}: runs kjournal serve or agent, not ${command}`);
      const known = flagsOf(command);
      for (const flag of args.keys())
        if (flag !== '') assert.ok(known.has(flag), `${at}: ${flag} is a flag of kjournal ${command}`);
      for (const [flag, value] of args)
        if (LISTEN_FLAGS.test(flag)) {
          const port = Number(value.split(':').at(-1));
          assert.ok(
            podHasPort(pod, port),
            `${at}: ${flag}=${value}: port ${port} is a declared container port`,
          );
        }
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
        const path: string = probe.httpGet.path;
        if (command === 'serve') {
          assert.ok(serverRoute(path), `${at}: the server routes ${path}`);
          assert.ok(OPEN_PATHS.has(path), `${at}: ${path} answers the kubelet without credentials`);
          const port = containerPorts(pod).find(
            (p) => p.name === probe.httpGet.port || p.containerPort === probe.httpGet.port,
          );
          const listen = Number((args.get('--listen') ?? '').split(':').at(-1));
          assert.equal(port?.containerPort, listen, `${at}: probes go to --listen`);
          assert.equal(
            probe.httpGet.scheme ?? 'HTTP',
            args.has('--tls-cert-file') ? 'HTTPS' : 'HTTP',
            `${at}: scheme`,
          );
        } else {
          assert.ok(agentRoute(path), `${at}: the agent's metrics server answers ${path}`);
          const port = containerPorts(pod).find(
            (p) => p.name === probe.httpGet.port || p.containerPort === probe.httpGet.port,
          );
          assert.equal(
            port?.containerPort,
            Number((args.get('--metrics') ?? '').split(':').at(-1)),
            `${at}: probes go to --metrics`,
          );
        }
      }
    }
  }
}

/** The pods a selector picks in a namespace; at least one. */
export function selected(objs: Obj[], selector: Obj, namespaces: readonly string[], what: string): Pod[] {
  const pods = podsOf(objs).filter((p) => namespaces.includes(p.namespace) && selects(selector, p.labels));
  assert.ok(pods.length > 0, `${what} selects pods`);
  return pods;
}

function checkServices(objs: Obj[]): void {
  for (const svc of objs.filter((o) => o.kind === 'Service')) {
    const pods = selected(objs, { matchLabels: svc.spec.selector }, [svc.metadata.namespace], id(svc));
    for (const port of svc.spec.ports) {
      for (const pod of pods)
        assert.ok(
          podHasPort(pod, port.targetPort ?? port.port),
          `${id(svc)} port ${port.name}: target on ${id(pod.owner)}`,
        );
    }
  }
  for (const api of objs.filter((o) => o.kind === 'APIService')) {
    const s = api.spec.service;
    const svc = objs.find(
      (o) => o.kind === 'Service' && o.metadata.name === s.name && o.metadata.namespace === s.namespace,
    );
    assert.ok(svc, `${id(api)}: Service ${s.namespace}/${s.name} exists`);
    assert.ok(
      svc.spec.ports.some((p: Obj) => p.port === (s.port ?? 443)),
      `${id(api)}: the Service port`,
    );
  }
}

function checkPolicies(objs: Obj[]): void {
  for (const pdb of objs.filter((o) => o.kind === 'PodDisruptionBudget')) {
    selected(objs, pdb.spec.selector, [pdb.metadata.namespace], id(pdb));
    assert.ok((pdb.spec.maxUnavailable ?? pdb.spec.minAvailable) !== undefined, `${id(pdb)}: a budget`);
  }
  for (const np of objs.filter((o) => o.kind === 'NetworkPolicy')) {
    const pods = selected(objs, np.spec.podSelector, [np.metadata.namespace], id(np));
    assert.ok((np.spec.policyTypes ?? []).includes('Ingress'));
    assert.ok((np.spec.ingress ?? []).length > 0, `${id(np)}: some ingress is allowed`);
    for (const rule of np.spec.ingress) {
      assert.ok((rule.ports ?? []).length > 0, `${id(np)}: every rule names its ports`);
      for (const p of rule.ports) {
        assert.ok(['TCP', 'UDP', undefined].includes(p.protocol));
        for (const pod of pods)
          assert.ok(podHasPort(pod, p.port), `${id(np)}: port ${p.port} on ${id(pod.owner)}`);
      }
      for (const from of rule.from ?? []) {
        if (from.ipBlock) {
          const [addr, bits] = from.ipBlock.cidr.split('/');
          assert.ok(isIP(addr) !== 0 && Number(bits) >= 0, `${id(np)}: CIDR ${from.ipBlock.cidr}`);
        } else assert.ok(from.namespaceSelector || from.podSelector, `${id(np)}: a peer`);
      }
    }
  }
}

function checkRbac(objs: Obj[]): void {
  for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const ref = b.roleRef;
    assert.equal(ref.apiGroup, 'rbac.authorization.k8s.io');
    if (ref.kind === 'ClusterRole')
      assert.ok(
        has(objs, 'ClusterRole', ref.name) || BUILTIN_CLUSTER_ROLES.has(ref.name),
        `${id(b)}: ClusterRole ${ref.name}`,
      );
    else {
      assert.equal(b.kind, 'RoleBinding', `${id(b)}: a ClusterRoleBinding names a ClusterRole`);
      const ns = b.metadata.namespace;
      assert.ok(
        has(objs, 'Role', ref.name, ns) || BUILTIN_ROLES.has(`${ns}/${ref.name}`),
        `${id(b)}: Role ${ref.name}`,
      );
    }
    assert.ok((b.subjects ?? []).length > 0, `${id(b)}: subjects`);
    for (const s of b.subjects) {
      if (s.kind === 'ServiceAccount')
        assert.ok(
          has(objs, 'ServiceAccount', s.name, s.namespace) ||
            EXTERNAL.ServiceAccount!.includes(`${s.namespace}/${s.name}`),
          `${id(b)}: ServiceAccount ${s.namespace}/${s.name} is created here or by the user (EXTERNAL)`,
        );
      else assert.equal(s.apiGroup, 'rbac.authorization.k8s.io', `${id(b)}: ${s.kind} subject's apiGroup`);
    }
  }
  for (const r of objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role'))
    for (const rule of r.rules ?? []) {
      assert.ok(
        !rule.verbs.includes('*') &&
          !(rule.resources ?? []).includes('*') &&
          !(rule.apiGroups ?? []).includes('*'),
        `${id(r)}: no wildcards`,
      );
      if (rule.nonResourceURLs) {
        assert.equal(r.kind, 'ClusterRole', 'nonResourceURLs only in a ClusterRole');
        assert.equal(rule.resources, undefined, `${id(r)}: nonResourceURLs without resources`);
        assert.deepEqual(rule.verbs, ['get'], `${id(r)}: non-resource paths are read with get`);
      }
    }
}

/** A ServiceAccount token Secret names a ServiceAccount of its namespace, which the token controller fills it for. */
function checkTokenSecrets(objs: Obj[]): void {
  for (const sec of objs.filter(
    (o) => o.kind === 'Secret' && o.type === 'kubernetes.io/service-account-token',
  )) {
    const sa = sec.metadata.annotations?.['kubernetes.io/service-account.name'];
    assert.ok(sa, `${id(sec)}: the kubernetes.io/service-account.name annotation`);
    assert.ok(
      has(objs, 'ServiceAccount', sa, sec.metadata.namespace),
      `${id(sec)}: ServiceAccount ${sa} of its namespace`,
    );
  }
}

function checkMonitoring(objs: Obj[]): void {
  const secretRef = (o: Obj, ref: Obj | undefined) => {
    if (ref) checkReference(objs, 'Secret', ref.name, o.metadata.namespace, id(o));
  };
  for (const sm of objs.filter((o) => o.kind === 'ServiceMonitor')) {
    const nss: string[] = sm.spec.namespaceSelector?.matchNames ?? [sm.metadata.namespace];
    const services = objs.filter(
      (o) =>
        o.kind === 'Service' &&
        nss.includes(o.metadata.namespace) &&
        selects(sm.spec.selector, o.metadata.labels),
    );
    assert.ok(services.length > 0, `${id(sm)} selects Services`);
    for (const ep of sm.spec.endpoints) {
      for (const svc of services)
        assert.ok(
          svc.spec.ports.some((p: Obj) => p.name === ep.port),
          `${id(sm)}: port ${ep.port} on ${id(svc)}`,
        );
      checkEndpoint(
        objs,
        sm,
        ep,
        services.flatMap((s) =>
          selected(objs, { matchLabels: s.spec.selector }, [s.metadata.namespace], id(s)),
        ),
        secretRef,
      );
    }
    if (sm.spec.jobLabel)
      for (const svc of services)
        assert.ok(svc.metadata.labels?.[sm.spec.jobLabel], `${id(svc)}: the jobLabel`);
  }
  for (const pm of objs.filter((o) => o.kind === 'PodMonitor')) {
    const nss: string[] = pm.spec.namespaceSelector?.matchNames ?? [pm.metadata.namespace];
    const pods = selected(objs, pm.spec.selector, nss, id(pm));
    for (const ep of pm.spec.podMetricsEndpoints) {
      for (const pod of pods)
        assert.ok(podHasPort(pod, ep.port), `${id(pm)}: port ${ep.port} on ${id(pod.owner)}`);
      checkEndpoint(objs, pm, ep, pods, secretRef);
    }
    if (pm.spec.jobLabel)
      for (const pod of pods) assert.ok(pod.labels[pm.spec.jobLabel], `${id(pod.owner)}: the jobLabel`);
  }
  for (const pr of objs.filter((o) => o.kind === 'PrometheusRule')) checkRules(pr);
}

/**
 * A scrape endpoint: /metrics, and HTTPS with the server's CA and name exactly where the pods serve
 * TLS; on the server, credentials it authenticates: a ServiceAccount token (Prometheus' own file, or
 * a ServiceAccount token Secret) needs --authentication-kubeconfig (TokenReview), a token of a
 * Secret the user makes needs --token-auth-file.
 */
function checkEndpoint(
  objs: Obj[],
  monitor: Obj,
  ep: Obj,
  pods: Pod[],
  secretRef: (o: Obj, ref: Obj | undefined) => void,
) {
  assert.equal(ep.path, '/metrics', `${id(monitor)}: path`);
  for (const pod of pods) {
    const c = pod.spec.containers[0];
    const args = argMap(c.args ?? []);
    const command = args.get('')?.split(' ')[0];
    if (command === 'serve') {
      assert.ok(serverRoute('/metrics'), 'the server routes /metrics');
      assert.equal(ep.scheme, args.has('--tls-cert-file') ? 'https' : 'http', `${id(monitor)}: scheme`);
      // The certificate's name (components/cert-manager's dnsNames, gen-certs.sh): the Service's.
      assert.equal(
        ep.tlsConfig?.serverName,
        'kjournal.kjournal.svc',
        `${id(monitor)}: the certificate's name`,
      );
      const secret = ep.authorization?.credentials;
      assert.ok(secret || ep.bearerTokenFile, `${id(monitor)}: the server wants credentials for /metrics`);
      if (ep.bearerTokenFile !== undefined) {
        assert.equal(
          monitor.kind,
          'ServiceMonitor',
          `${id(monitor)}: only a ServiceMonitor has bearerTokenFile`,
        );
        assert.equal(
          ep.bearerTokenFile,
          SA_TOKEN_FILE,
          `${id(monitor)}: Prometheus' own ServiceAccount token`,
        );
      }
      const saToken =
        ep.bearerTokenFile !== undefined ||
        objs.some(
          (o) =>
            o.kind === 'Secret' &&
            o.metadata.name === secret?.name &&
            o.metadata.namespace === monitor.metadata.namespace &&
            o.type === 'kubernetes.io/service-account-token',
        );
      assert.ok(
        args.has(saToken ? '--authentication-kubeconfig' : '--token-auth-file'),
        `${id(monitor)}: the server authenticates its ${saToken ? 'ServiceAccount token (--authentication-kubeconfig)' : 'token (--token-auth-file)'}`,
      );
    } else {
      assert.equal(command, 'agent');
      assert.ok(agentRoute('/metrics'), 'the agent serves /metrics');
      assert.equal(ep.scheme, 'http', `${id(monitor)}: the agent's metrics port is plain HTTP`);
    }
  }
  secretRef(monitor, ep.tlsConfig?.ca?.secret);
  secretRef(monitor, ep.authorization?.credentials);
}

export function checkRules(pr: Obj): void {
  const alerts = new Set<string>();
  assert.ok(pr.spec.groups.length > 0);
  for (const g of pr.spec.groups) {
    assert.ok(g.name && g.rules.length > 0, `${id(pr)}: group ${g.name}`);
    for (const r of g.rules) {
      const at = `${id(pr)} ${r.alert ?? r.record}`;
      assert.match(r.alert ?? '', /^Kjournal[A-Za-z]+$/, `${at}: alert name`);
      assert.ok(!alerts.has(r.alert), `${at}: unique`);
      alerts.add(r.alert);
      const expr = String(r.expr);
      const names = exprMetrics(expr);
      assert.ok(names.length > 0, `${at}: reads a kjournal metric`);
      for (const n of names) assert.ok(metricExists(n), `${at}: ${n} is a metric kjournal exports`);
      // Balanced brackets, and range selectors with durations Prometheus takes.
      let depth = 0;
      for (const ch of expr) {
        depth += '([{'.includes(ch) ? 1 : ')]}'.includes(ch) ? -1 : 0;
        assert.ok(depth >= 0, `${at}: brackets`);
      }
      assert.equal(depth, 0, `${at}: brackets`);
      for (const m of expr.matchAll(/\[([^\]]+)\]/g))
        assert.ok(parseDuration(m[1]!) !== undefined, `${at}: [${m[1]}]`);
      if (r.for !== undefined) assert.ok(parseDuration(r.for) !== undefined, `${at}: for ${r.for}`);
      assert.ok(['warning', 'critical'].includes(r.labels?.severity), `${at}: severity`);
      assert.ok(r.annotations?.summary && r.annotations?.description, `${at}: summary and description`);
      for (const text of Object.values(r.annotations) as string[]) {
        const open = (text.match(/\{\{/g) ?? []).length;
        assert.equal(open, (text.match(/\}\}/g) ?? []).length, `${at}: templates closed`);
      }
    }
  }
}

/** Every check, on one rendering. */
export function checkAll(objs: Obj[]): void {
  checkMeta(objs);
  checkWorkloads(objs);
  checkServices(objs);
  checkPolicies(objs);
  checkRbac(objs);
  checkTokenSecrets(objs);
  checkMonitoring(objs);
}

export const server = (objs: Obj[]): Obj => {
  const w = objs.filter((o) => WORKLOADS.has(o.kind) && o.metadata.namespace === 'kjournal');
  assert.equal(w.length, 1, 'one server workload');
  return w[0];
};
export const serverArgs = (objs: Obj[]) => argMap(server(objs).spec.template.spec.containers[0].args);
