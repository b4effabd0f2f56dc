/**
 * Every kustomization under deploy/ (the entry points, each overlay) and every component applied on
 * the base it is made for, found by listing the directories (a new one is covered without editing
 * this file), rendered with the real `kubectl kustomize` and checked for what a cluster would refuse
 * or silently get wrong: known kinds and versions, names, namespaces that exist, selectors that
 * select the pods, Service, PodDisruptionBudget, NetworkPolicy, ServiceMonitor and PodMonitor ports
 * that exist, references to objects that exist (or that deploy/README.md tells the user to create),
 * and that what the manifests ask of kjournal is in the code: the image, every flag (from
 * `kjournal serve --help` / `kjournal agent --help`), every listening port, every probe path (the
 * route table and the unauthenticated paths of src/api/http/auth-gate.ts) and every metric named by
 * an alert (the metric names registered in src/).
 *
 * kubectl's own `--dry-run=client` validation needs the OpenAPI of a live server, so the shapes the
 * project relies on are validated here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { parseDuration } from '../../src/go/duration.js';

// dist/test/deploy/ → the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const SRC = join(ROOT, 'src');

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read as plain JSON.
type Obj = any;

// ---- a scratch copy of deploy/ (own-certs needs certificate files, never written into the tree) ---

const scratch = mkdtempSync(join(tmpdir(), 'kj-deploy-all-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const DEPLOY = join(scratch, 'deploy');
cpSync(join(ROOT, 'deploy'), DEPLOY, { recursive: true });
for (const f of ['ca.crt', 'tls.crt'])
  writeFileSync(
    join(DEPLOY, 'overlays', 'own-certs', f),
    '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n',
  );
writeFileSync(
  join(DEPLOY, 'overlays', 'own-certs', 'tls.key'),
  '-----BEGIN PRIVATE KEY-----\nZmFrZQ==\n-----END PRIVATE KEY-----\n',
);
const README = readFileSync(join(ROOT, 'deploy', 'README.md'), 'utf8');

function render(dir: string): Obj[] {
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.error, undefined, `${KUBECTL} kustomize: ${r.error?.message}`);
  assert.equal(r.status, 0, `kubectl kustomize ${relative(scratch, dir)}:\n${r.stderr}`);
  const objs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o !== null);
  assert.ok(objs.length > 0, `${relative(scratch, dir)} rendered nothing`);
  return objs;
}

let overlayCount = 0;
/** Renders a kustomization made of `resources` and `components` (paths relative to deploy/). */
function renderWith(resources: string[], components: string[], extra = ''): Obj[] {
  const dir = join(scratch, `overlay-${overlayCount++}`);
  mkdirSync(dir);
  const rel = (p: string) => relative(dir, join(DEPLOY, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${resources.map(rel).join(', ')}]`,
      `components: [${components.map(rel).join(', ')}]`,
      extra,
    ].join('\n'),
  );
  return render(dir);
}

// ---- what the directories hold ------------------------------------------------------------------

interface Found {
  /** Relative to deploy/. */
  readonly dir: string;
  readonly kind: 'Kustomization' | 'Component';
  readonly doc: Obj;
}

function walk(dir: string, out: Found[] = []): Found[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(dir, e.name), out);
    else if (e.name === 'kustomization.yaml') {
      const doc = parse(readFileSync(join(dir, e.name), 'utf8')) as Obj;
      out.push({ dir: relative(DEPLOY, dir) || '.', kind: doc.kind ?? 'Kustomization', doc });
    }
  }
  return out;
}
const found = walk(DEPLOY);
const kustomizations = found.filter((f) => f.kind === 'Kustomization');
/** A component another *component* lists is a step of it (components/clickhouse/workload), not applied alone. */
function isStep(f: Found): boolean {
  return found.some(
    (g) =>
      g.kind === 'Component' &&
      ((g.doc.components ?? []) as string[]).some((c) => relative(DEPLOY, join(DEPLOY, g.dir, c)) === f.dir),
  );
}
const components = found.filter((f) => f.kind === 'Component' && !isStep(f));
/** The base a component is made for: `agent-*` components go into deploy/agent, the rest into deploy/. */
const baseOf = (component: string): string => (basename(component).startsWith('agent-') ? 'agent' : '.');

// ---- what the code has ---------------------------------------------------------------------------

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}
const sources = new Map(sourceFiles(SRC).map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')]));

/**
 * Metric names registered in src/: `name: 'kjournal_…'`, the pipeline's `counter(registry,
 * 'kjournal_…'` helpers, exported name constants, and names built from a prefix constant
 * (`const p = 'kjournal_agent_'` … `name: \`${p}buffer_bytes\``, src/agent/metrics.ts).
 */
function metricNames(): Set<string> {
  const out = new Set<string>();
  const q = `['"\`]`;
  const direct = [
    new RegExp(`name:\\s*${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
    new RegExp(`(?:counter|gauge|histogram)\\(\\s*\\w+,\\s*${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
    new RegExp(`export const [A-Z_]+ = ${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
  ];
  for (const text of sources.values()) {
    for (const re of direct) for (const m of text.matchAll(re)) out.add(m[1]!);
    for (const p of text.matchAll(new RegExp(`const (\\w+) = ${q}(kjournal_[a-z0-9_]*_)${q}`, 'g')))
      for (const m of text.matchAll(new RegExp(`name:\\s*\`\\$\\{${p[1]}\\}([a-z0-9_]+)\``, 'g')))
        out.add(p[2]! + m[1]!);
  }
  return out;
}
const METRICS = metricNames();

const helpFlags = new Map<string, Set<string>>();
/** The flags `kjournal <command> --help` lists (the built CLI). */
function flagsOf(command: string): Set<string> {
  let known = helpFlags.get(command);
  if (!known) {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), command, '--help'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `kjournal ${command} --help: ${r.stderr}`);
    known = new Set(r.stdout.match(/--[a-z][a-z0-9-]*/g) ?? []);
    assert.ok(known.size > 10, `kjournal ${command} --help lists its flags`);
    helpFlags.set(command, known);
  }
  return known;
}

/** The paths auth-gate.ts answers without credentials (the kubelet probes anonymously). */
const OPEN_PATHS = (() => {
  const gate = sources.get('src/api/http/auth-gate.ts') ?? '';
  const m = /const OPEN = new Set\(\[([^\]]*)\]\)/.exec(gate);
  assert.ok(m, 'the OPEN set of auth-gate.ts');
  return new Set([...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!));
})();

/** Whether the server registers a GET route for `path` (router `.add([...], '/p'` or kube's `get('/p'`). */
function serverRoute(path: string): boolean {
  const lit = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(`(?:\\bget|\\.add)\\(\\s*(?:\\[[^\\]]*\\],\\s*)?'${lit}'`);
  return [...sources].some(([f, text]) => /^src\/(api|server)\//.test(f) && re.test(text));
}
/** Whether the agent's metrics server answers `path` (src/agent/metrics.ts). */
const agentRoute = (path: string): boolean =>
  (sources.get('src/agent/metrics.ts') ?? '').includes(`path === '${path}'`);

/** The image: name and tag from base/kustomization.yaml's `images:`, the name also in the Dockerfile. */
const IMAGE = (() => {
  const base = parse(readFileSync(join(ROOT, 'deploy', 'base', 'kustomization.yaml'), 'utf8')) as Obj;
  const [entry] = base.images as { name: string; newTag: string; newName?: string }[];
  assert.ok(entry, 'base/kustomization.yaml pins the image');
  const name = entry.newName ?? entry.name;
  assert.ok(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').includes(name), `the Dockerfile builds ${name}`);
  return `${name}:${entry.newTag}`;
})();

/**
 * Objects the manifests reference but never create: the user makes them (deploy/README.md says
 * how, which is checked below).
 */
const EXTERNAL: Record<string, readonly string[]> = {
  Secret: [
    'kjournal-tls',
    'kjournal-agent-tokens',
    'kjournal-agent-token',
    'kjournal-clickhouse',
    'kjournal-metrics-token',
  ],
  ConfigMap: ['kjournal-server-ca'],
};
const BUILTIN_CLUSTER_ROLES = new Set(['system:auth-delegator', 'view', 'edit', 'admin', 'cluster-admin']);
const BUILTIN_ROLES = new Set(['kube-system/extension-apiserver-authentication-reader']);
const BUILTIN_PRIORITY_CLASSES = new Set(['system-node-critical', 'system-cluster-critical']);

// ---- the checks ---------------------------------------------------------------------------------

const KINDS: Record<string, { apiVersion: string; namespaced: boolean }> = {
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
const WORKLOADS = new Set(['StatefulSet', 'Deployment', 'DaemonSet']);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RBAC_NAME = /^[a-z0-9][a-z0-9:.-]*$/;

const id = (o: Obj) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const has = (objs: Obj[], kind: string, name: string, ns?: string) =>
  objs.some((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === ns);

/** Whether a label selector (matchLabels, matchExpressions with In/NotIn/Exists) selects `labels`. */
function selects(selector: Obj, labels: Record<string, string> = {}): boolean {
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

interface Pod {
  readonly owner: Obj;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly spec: Obj;
}
const podsOf = (objs: Obj[]): Pod[] =>
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
const podHasPort = (pod: Pod, port: string | number): boolean =>
  containerPorts(pod).some((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));

/** `--name=value` and `--name value` as a map; positional arguments under ''. */
function argMap(args: readonly string[]): Map<string, string> {
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
function selected(objs: Obj[], selector: Obj, namespaces: readonly string[], what: string): Pod[] {
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
        assert.ok(has(objs, 'ServiceAccount', s.name, s.namespace), `${id(b)}: ${s.namespace}/${s.name}`);
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
      checkEndpoint(pm, ep, pods, secretRef);
    }
    if (pm.spec.jobLabel)
      for (const pod of pods) assert.ok(pod.labels[pm.spec.jobLabel], `${id(pod.owner)}: the jobLabel`);
  }
  for (const pr of objs.filter((o) => o.kind === 'PrometheusRule')) checkRules(pr);
}

/** A scrape endpoint: /metrics, and HTTPS with the server's CA and name exactly where the pods serve TLS. */
function checkEndpoint(
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
      assert.ok(ep.authorization?.credentials, `${id(monitor)}: the server wants credentials for /metrics`);
    } else {
      assert.equal(command, 'agent');
      assert.ok(agentRoute('/metrics'), 'the agent serves /metrics');
      assert.equal(ep.scheme, 'http', `${id(monitor)}: the agent's metrics port is plain HTTP`);
    }
  }
  secretRef(monitor, ep.tlsConfig?.ca?.secret);
  secretRef(monitor, ep.authorization?.credentials);
}

/** The metric names an expression reads (kjournal's own). */
function exprMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bkjournal_[a-z0-9_]+/g)].map((m) => m[0]);
}
const metricExists = (name: string): boolean =>
  METRICS.has(name) || METRICS.has(name.replace(/_(bucket|sum|count)$/, ''));

function checkRules(pr: Obj): void {
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
function checkAll(objs: Obj[]): void {
  checkMeta(objs);
  checkWorkloads(objs);
  checkServices(objs);
  checkPolicies(objs);
  checkRbac(objs);
  checkMonitoring(objs);
}

// ---- the tests -----------------------------------------------------------------------------------

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

describe('every kustomization under deploy/ renders and checks out', () => {
  for (const k of kustomizations)
    test(k.dir === '.' ? 'deploy/' : `deploy/${k.dir}`, () => {
      checkAll(render(join(DEPLOY, k.dir)));
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

// ---- what particular components promise -------------------------------------------------------------

const server = (objs: Obj[]): Obj => {
  const w = objs.filter((o) => WORKLOADS.has(o.kind) && o.metadata.namespace === 'kjournal');
  assert.equal(w.length, 1, 'one server workload');
  return w[0];
};
const serverArgs = (objs: Obj[]) => argMap(server(objs).spec.template.spec.containers[0].args);

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

  for (const c of ['components/service-monitor', 'components/pod-monitor'])
    test(`${c}: binds it to the user of the token the monitor sends, which the token file authenticates`, () => {
      const objs = renderWith(['.'], ['agent/server-auth', c]);
      const binding = objs.find(
        (o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'kjournal:metrics-reader',
      );
      assert.deepEqual(binding.subjects, [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kjournal:metrics' },
      ]);
      // The README's tokens.csv row names that user, and the monitor reads the Secret that holds its token.
      assert.ok(README.includes(',kjournal:metrics,kjournal:metrics'), 'the README gives the tokens.csv row');
      const monitor = objs.find((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
      const ep = (monitor.spec.endpoints ?? monitor.spec.podMetricsEndpoints)[0];
      assert.deepEqual(ep.authorization, {
        type: 'Bearer',
        credentials: { name: 'kjournal-metrics-token', key: 'token' },
      });
      assert.ok(serverArgs(objs).has('--token-auth-file'));
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
  test('production: persistence, PDB, NetworkPolicy, ServiceMonitor, priority class, alerts, token file', () => {
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
    assert.ok(serverArgs(objs).has('--token-auth-file'));
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
      production,
      (o) => {
        find(o, 'ServiceMonitor').spec.endpoints[0].authorization.credentials.name = 'prometheus-token';
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
