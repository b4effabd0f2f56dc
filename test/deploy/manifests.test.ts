/**
 * The deploy/ manifests, as `kubectl kustomize` really renders them (offline, no cluster): the default
 * entry, each overlay and the node agent (deploy/agent), checked for what a real cluster depends on (API
 * aggregation, delegated auth, least-privilege RBAC, probes, resources, pod security).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { parseAllDocuments } from 'yaml';
import { argMap } from './checks.js';

// dist/test/deploy/ → the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const IMAGE = 'ghcr.io/kjournal/kjournal:0.1.0';
const NS = 'kjournal';
const SA = { kind: 'ServiceAccount', name: 'kjournal', namespace: NS };

// kubectl and openssl are required (.ci/run installs them when missing): no test here is skipped.
const kubectlFound = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectlFound) throw new Error(`${KUBECTL} not found: cannot run kubectl kustomize`);
const opensslFound = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

// ---- the shapes read below ----------------------------------------------------------------------

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      configMapKeyRef?: { name: string; key: string };
      secretKeyRef?: { name: string; key: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
  hostPath?: { path: string; type?: string };
  emptyDir?: object;
  persistentVolumeClaim?: { claimName: string };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: SecurityContext & { fsGroup?: number };
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  priorityClassName?: string;
}
interface WorkloadSpec {
  replicas?: number;
  strategy?: { type: string };
  serviceName?: string;
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates?: { metadata: { name: string } }[];
}
interface ServiceSpec {
  clusterIP?: string;
  selector: Record<string, string>;
  ports: { name?: string; port: number; targetPort: string | number }[];
}
interface APIServiceSpec {
  group: string;
  version: string;
  groupPriorityMinimum: number;
  versionPriority: number;
  service?: { name: string; namespace: string; port?: number };
  caBundle?: string;
  insecureSkipTLSVerify?: boolean;
}
interface CertificateSpec {
  secretName: string;
  dnsNames: string[];
  issuerRef: { kind: string; name: string };
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}
interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}
interface KObject<S = unknown> {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec: S;
  data?: Record<string, string>;
  type?: string;
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: Subject[];
}

// ---- helpers ------------------------------------------------------------------------------------

/** `kubectl kustomize DIR`, parsed. */
function kustomize(dir: string): KObject[] {
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.error, undefined, `${KUBECTL} kustomize ${dir}: ${r.error?.message}`);
  assert.equal(r.status, 0, `${KUBECTL} kustomize ${dir} failed:\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: KObject[] = [];
  for (const doc of docs) {
    assert.deepEqual(doc.errors, [], `YAML error in the output of kustomize ${dir}`);
    const obj = doc.toJS() as KObject | null;
    if (obj !== null) out.push(obj);
  }
  assert.ok(out.length > 0, `kustomize ${dir} rendered nothing`);
  return out;
}

function all<S = unknown>(objs: KObject[], kind: string): KObject<S>[] {
  return objs.filter((o) => o.kind === kind) as KObject<S>[];
}

function one<S = unknown>(objs: KObject[], kind: string, name: string, namespace?: string): KObject<S> {
  const found = objs.filter(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
  assert.equal(found.length, 1, `exactly one ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
  return found[0] as KObject<S>;
}

const UNITS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  k: 1e3,
  M: 1e6,
  G: 1e9,
};
/** A Kubernetes memory quantity in bytes. */
function bytesOf(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G|)$/.exec(q ?? '');
  assert.ok(m, `a memory quantity: ${q}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
/** A Kubernetes CPU quantity in millicores. */
function milliCpu(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q ?? '');
  assert.ok(m, `a CPU quantity: ${q}`);
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}

/** The volume mounted at the directory that holds FILE, and the file's name inside it. */
function volumeFor(pod: PodSpec, c: Container, file: string): { volume: Volume; key: string } {
  const mount = (c.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  assert.ok(mount, `${c.name}: ${file} lies on a mounted volume`);
  const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume, `${c.name}: volume ${mount.name} is defined`);
  return { volume, key: file.slice(mount.mountPath.replace(/\/$/, '').length + 1) };
}

function isAggregated(role: KObject): boolean {
  return Object.entries(role.metadata.labels ?? {}).some(
    ([k, v]) => k.startsWith('rbac.authorization.k8s.io/aggregate-to-') && v === 'true',
  );
}

function grants(rule: PolicyRule, group: string, resource: string): boolean {
  const groups = rule.apiGroups ?? [];
  const resources = rule.resources ?? [];
  return (
    (groups.includes(group) || groups.includes('*')) &&
    (resources.includes(resource) || resources.includes('*'))
  );
}

function boundTo(
  objs: KObject[],
  kind: string,
  roleKind: string,
  roleName: string,
  subject: Subject,
): KObject[] {
  return all(objs, kind).filter(
    (b) =>
      b.roleRef?.kind === roleKind &&
      b.roleRef.name === roleName &&
      (b.subjects ?? []).some(
        (s) => s.kind === subject.kind && s.name === subject.name && s.namespace === subject.namespace,
      ),
  );
}

/** The pod-security settings every kjournal server container must have (PSS "restricted"). */
function assertRestricted(pod: PodSpec, c: Container): void {
  const sc = c.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true, `${c.name}: runAsNonRoot`);
  assert.notEqual(sc.runAsUser ?? podSc.runAsUser, 0, `${c.name}: not uid 0`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${c.name}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation false`);
  assert.notEqual(sc.privileged, true, `${c.name}: not privileged`);
  assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${c.name}: drops ALL capabilities`);
  assert.deepEqual(sc.capabilities?.add ?? [], [], `${c.name}: adds no capability`);
  assert.equal((sc.seccompProfile ?? podSc.seccompProfile)?.type, 'RuntimeDefault', `${c.name}: seccomp`);
}

/** Checks shared by every rendering that contains the server; returns its StatefulSet. */
function assertServer(objs: KObject[]): { sts: KObject<WorkloadSpec>; pod: PodSpec; main: Container } {
  const sts = one<WorkloadSpec>(objs, 'StatefulSet', 'kjournal', NS);
  const pod = sts.spec.template.spec;
  const main = pod.containers.find((c) => c.name === 'kjournal');
  assert.ok(main, 'the server container');
  return { sts, pod, main };
}

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

// ---- the default entry: kubectl apply -k deploy/ --------------------------------------------------

describe('deploy/ (default)', () => {
  const objs = kubectlFound ? kustomize(DEPLOY) : [];

  test('namespace kjournal, enforcing the restricted Pod Security Standard', () => {
    const ns = one(objs, 'Namespace', NS);
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    const namespaces = new Set(objs.map((o) => o.metadata.namespace).filter((n) => n !== undefined));
    assert.deepEqual(
      [...namespaces].sort(),
      ['kjournal', 'kube-system'],
      'only kjournal (and the kube-system binding)',
    );
  });

  test('APIService v1alpha1.core.kjournal points at the Service, port 443 → the https container port', () => {
    const api = one<APIServiceSpec>(objs, 'APIService', 'v1alpha1.core.kjournal');
    assert.equal(api.apiVersion, 'apiregistration.k8s.io/v1');
    assert.equal(api.spec.group, 'core.kjournal');
    assert.equal(api.spec.version, 'v1alpha1');
    assert.deepEqual(api.spec.service, { name: 'kjournal', namespace: NS, port: 443 });
    assert.ok(api.spec.versionPriority > 0, 'versionPriority');
    // `kubectl get events` must stay the core group's: below events.k8s.io (17750) and core (18000).
    assert.ok(
      api.spec.groupPriorityMinimum > 0 && api.spec.groupPriorityMinimum < 17750,
      'groupPriorityMinimum',
    );
    assert.notEqual(api.spec.insecureSkipTLSVerify, true, 'never skip TLS verification');
    // Left out so that re-applying never overwrites a bundle set by kubectl patch or cainjector.
    assert.equal(api.spec.caBundle, undefined, 'the default variant sets no caBundle');

    const svc = one<ServiceSpec>(objs, 'Service', 'kjournal', NS);
    const port = svc.spec.ports.find((p) => p.port === 443);
    assert.ok(port, 'the Service listens on 443');
    const { sts, main } = assertServer(objs);
    const labels = sts.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector))
      assert.equal(labels[k], v, `selector ${k} matches the pod`);
    const target = main.ports?.find((p) => p.name === port.targetPort || p.containerPort === port.targetPort);
    assert.equal(target?.containerPort, 8443, '443 → 8443');
    assert.match(argMap(main.args ?? []).get('--listen') ?? '', /:8443$/, 'the server listens on 8443');
  });

  test('the server: a one-replica StatefulSet with its data on a claim, run as `kjournal serve`', () => {
    const { sts, pod, main } = assertServer(objs);
    assert.equal(all(objs, 'Deployment').length, 0, 'no Deployment besides');
    assert.equal(sts.spec.replicas, 1, 'one writer for the embedded store');
    assert.equal(pod.serviceAccountName, 'kjournal');
    one(objs, 'ServiceAccount', 'kjournal', NS);
    const headless = one<ServiceSpec>(objs, 'Service', sts.spec.serviceName ?? '', NS);
    assert.equal(headless.spec.clusterIP, 'None', 'the governing Service is headless');
    assert.equal(main.image, IMAGE);
    const args = argMap(main.args ?? []);
    assert.equal(args.get(''), 'serve');
    const data = args.get('--data') ?? '';
    assert.equal(data, '/var/lib/kjournal');
    const claim = sts.spec.volumeClaimTemplates?.map((t) => t.metadata.name) ?? [];
    const dataMount = main.volumeMounts?.find((m) => m.mountPath === data);
    assert.ok(dataMount && claim.includes(dataMount.name), '--data is on the volumeClaimTemplate');
  });

  test('TLS and delegated auth flags name files that are really mounted', () => {
    const { pod, main } = assertServer(objs);
    const args = argMap(main.args ?? []);
    for (const flag of [
      '--tls-cert-file',
      '--tls-private-key-file',
      '--requestheader-client-ca-file',
      '--requestheader-allowed-names',
      '--authorization-kubeconfig',
    ])
      assert.ok(args.get(flag), `${flag} is set`);

    for (const [flag, key] of [
      ['--tls-cert-file', 'tls.crt'],
      ['--tls-private-key-file', 'tls.key'],
    ] as const) {
      const v = volumeFor(pod, main, args.get(flag)!);
      assert.equal(v.volume.secret?.secretName, 'kjournal-tls', `${flag} comes from Secret kjournal-tls`);
      assert.equal(v.key, key);
    }

    const kc = volumeFor(pod, main, args.get('--authorization-kubeconfig')!);
    const cm = one(objs, 'ConfigMap', kc.volume.configMap?.name ?? '', NS);
    const kubeconfig = parseAllDocuments(cm.data?.[kc.key] ?? '')[0]?.toJS() as {
      users: { user: { tokenFile?: string } }[];
      clusters: { cluster: { server: string; 'certificate-authority'?: string } }[];
    };
    assert.equal(kubeconfig.users[0]?.user.tokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(kubeconfig.clusters[0]?.cluster.server, 'https://kubernetes.default.svc');

    // The front-proxy CA: written by the init container into a volume the server mounts.
    const ca = args.get('--requestheader-client-ca-file')!;
    const caVolume = volumeFor(pod, main, ca).volume;
    assert.ok(caVolume.emptyDir, 'a pod-local emptyDir, not a ConfigMap of another namespace');
    const init = pod.initContainers?.find((c) => c.name === 'front-proxy-ca');
    assert.ok(init, 'the init container that fetches extension-apiserver-authentication');
    assert.equal(volumeFor(pod, init, ca).volume.name, caVolume.name, 'written where the server reads');
    const script = init.command?.at(-1) ?? '';
    assert.ok(script.includes(`'${ca}'`), 'the script writes that very file');
    assert.ok(script.includes('/namespaces/kube-system/configmaps/extension-apiserver-authentication'));
    assert.doesNotThrow(() => new Script(script), 'the init script is valid JavaScript');

    // $(REQUESTHEADER_ALLOWED_NAMES): from a ConfigMap in the output, the same for both containers.
    assert.equal(args.get('--requestheader-allowed-names'), '$(REQUESTHEADER_ALLOWED_NAMES)');
    for (const c of [main, init]) {
      const ref = c.env?.find((e) => e.name === 'REQUESTHEADER_ALLOWED_NAMES')?.valueFrom?.configMapKeyRef;
      assert.ok(ref, `${c.name}: REQUESTHEADER_ALLOWED_NAMES from a ConfigMap`);
      assert.equal(one(objs, 'ConfigMap', ref.name, NS).data?.[ref.key], 'front-proxy-client');
    }
  });

  test('probes: /readyz and /livez over HTTPS on the serving port', () => {
    const { main } = assertServer(objs);
    for (const [probe, path] of [
      [main.readinessProbe, '/readyz'],
      [main.livenessProbe, '/livez'],
      [main.startupProbe, '/readyz'],
    ] as const) {
      assert.equal(probe?.httpGet?.path, path);
      assert.equal(probe.httpGet.scheme, 'HTTPS');
      const port = probe.httpGet.port;
      assert.ok(
        port === 8443 || main.ports?.some((p) => p.name === port && p.containerPort === 8443),
        'port 8443',
      );
    }
  });

  test('resources: requests and a memory limit of 512Mi–1Gi', () => {
    const { pod, main } = assertServer(objs);
    const r = main.resources;
    assert.ok(milliCpu(r?.requests?.cpu) > 0, 'a CPU request');
    const request = bytesOf(r?.requests?.memory);
    const limit = bytesOf(r?.limits?.memory);
    assert.ok(request >= 256 * 2 ** 20 && request <= limit, 'a memory request up to the limit');
    assert.ok(limit >= 512 * 2 ** 20 && limit <= 2 ** 30, 'memory limit between 512Mi and 1Gi');
    for (const c of pod.initContainers ?? [])
      assert.ok(c.resources?.limits?.memory, `${c.name}: memory limit`);
  });

  test('securityContext: every container is non-root, read-only, without capabilities, seccomp', () => {
    const { pod } = assertServer(objs);
    const containers = [...(pod.initContainers ?? []), ...pod.containers];
    assert.ok(containers.length >= 2);
    for (const c of containers) {
      assertRestricted(pod, c);
      assert.equal(c.image, IMAGE, `${c.name}: the kjournal image, tag from images:`);
    }
    for (const v of pod.volumes ?? []) assert.equal(v.hostPath, undefined, `${v.name}: no hostPath`);
  });

  test('RBAC: kjournal:reader covers containerlogs and events, read-only, aggregated to view', () => {
    const reader = one(objs, 'ClusterRole', 'kjournal:reader');
    assert.equal(reader.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    assert.equal(reader.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.equal(reader.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    const rules = reader.rules ?? [];
    assert.ok(rules.length > 0);
    const resources = new Set<string>();
    for (const rule of rules) {
      assert.deepEqual(rule.apiGroups, ['core.kjournal']);
      for (const verb of rule.verbs) assert.ok(['get', 'list', 'watch'].includes(verb), `read-only: ${verb}`);
      // The Loki API under the group's path is read with GET (kube-apiserver's verb "get").
      const loki = rule.resources?.includes('loki/v1');
      assert.deepEqual([...rule.verbs].sort(), loki ? ['get'] : ['get', 'list', 'watch']);
      for (const r of rule.resources ?? []) resources.add(r);
    }
    assert.deepEqual([...resources].sort(), ['containerlogs', 'events', 'loki/v1']);
  });

  test('RBAC: no aggregated role reaches auditevents or logs; kjournal:audit-reader is bound by hand', () => {
    const roles = all(objs, 'ClusterRole');
    const aggregated = roles.filter(isAggregated);
    assert.ok(aggregated.length > 0, 'there are aggregated roles to check');
    for (const role of aggregated)
      for (const rule of role.rules ?? [])
        for (const resource of ['auditevents', 'logs'])
          assert.ok(
            !grants(rule, 'core.kjournal', resource),
            `${role.metadata.name} must not grant ${resource}`,
          );

    const audit = one(objs, 'ClusterRole', 'kjournal:audit-reader');
    assert.equal(isAggregated(audit), false, 'audit-reader carries no aggregate-to-* label');
    for (const resource of ['auditevents', 'logs'])
      assert.ok(
        (audit.rules ?? []).some((r) => grants(r, 'core.kjournal', resource) && r.verbs.includes('list')),
        `audit-reader lists ${resource}`,
      );
    assert.equal(
      all(objs, 'ClusterRoleBinding').filter((b) => b.roleRef?.name === 'kjournal:audit-reader').length,
      0,
    );
    assert.equal(all(objs, 'RoleBinding').filter((b) => b.roleRef?.name === 'kjournal:reader').length, 0);
  });

  test('RBAC: the ServiceAccount is an auth delegator and reads extension-apiserver-authentication', () => {
    assert.equal(boundTo(objs, 'ClusterRoleBinding', 'ClusterRole', 'system:auth-delegator', SA).length, 1);
    const rb = boundTo(objs, 'RoleBinding', 'Role', 'extension-apiserver-authentication-reader', SA);
    assert.equal(rb.length, 1);
    assert.equal(rb[0]!.metadata.namespace, 'kube-system', 'the Role lives in kube-system');
  });

  test('RBAC: the server itself reads pods, pods/log and events, and writes nothing', () => {
    const bindings = all(objs, 'ClusterRoleBinding').filter((b) =>
      (b.subjects ?? []).some(
        (s) => s.kind === SA.kind && s.name === SA.name && s.namespace === SA.namespace,
      ),
    );
    const own = bindings
      .map((b) => b.roleRef?.name ?? '')
      .filter((n) => !n.startsWith('system:'))
      .map((n) => one(objs, 'ClusterRole', n));
    assert.equal(own.length, 1, 'one ClusterRole of its own');
    const rules = own[0]!.rules ?? [];
    const can = (group: string, resource: string, verb: string): boolean =>
      rules.some((r) => grants(r, group, resource) && r.verbs.includes(verb));
    assert.ok(can('', 'pods', 'list') && can('', 'pods', 'watch') && can('', 'pods', 'get'));
    assert.ok(can('', 'pods/log', 'get'));
    assert.ok(can('', 'events', 'list') && can('', 'events', 'watch'));
    assert.ok(!can('', 'secrets', 'get'), 'no Secrets');
  });

  test('every role in deploy/ is read-only and names its resources (no wildcards, no Secrets)', () => {
    for (const role of [...all(objs, 'ClusterRole'), ...all(objs, 'Role')])
      for (const rule of role.rules ?? []) {
        for (const verb of rule.verbs)
          assert.ok(['get', 'list', 'watch'].includes(verb), `${role.metadata.name}: ${verb}`);
        assert.ok(
          !(rule.resources ?? []).includes('*') && !(rule.apiGroups ?? []).includes('*'),
          role.metadata.name,
        );
        assert.ok(!(rule.resources ?? []).includes('secrets'), `${role.metadata.name}: secrets`);
      }
  });

  test('the default kustomization starts no agent: no DaemonSet, and kjournal-tls is left to the user', () => {
    assert.equal(all(objs, 'DaemonSet').length, 0);
    assert.ok(!objs.some((o) => o.kind === 'Namespace' && o.metadata.name === 'kjournal-agent'));
    assert.ok(!objs.some((o) => o.kind === 'Secret'), 'no Secret: applying must not overwrite the user’s');
    for (const c of [...all<WorkloadSpec>(objs, 'StatefulSet')].flatMap(
      (s) => s.spec.template.spec.containers,
    ))
      assert.notEqual(argMap(c.args ?? []).get(''), 'agent');
  });
});

// ---- the init container's script, run for real against a fake kube-apiserver ----------------------

/** The init container's script from the rendered StatefulSet. */
function initScript(): string {
  const { pod } = assertServer(kustomize(DEPLOY));
  const script = pod.initContainers?.find((c) => c.name === 'front-proxy-ca')?.command?.at(-1);
  assert.ok(script, 'the front-proxy-ca script');
  return script;
}

if (!opensslFound) throw new Error('openssl not found: cannot make test certificates');
describe('front-proxy-ca init script', () => {
  const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
  const OUT = '/run/kjournal/auth';
  const PATH = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';

  /** Serves one ConfigMap over HTTPS, runs the script (paths moved into a scratch dir) against it. */
  async function run(data: Record<string, string>, allowedNames: string, trustServer = true) {
    const tmp = mkdtempSync(join(tmpdir(), 'kj-initscript-'));
    scratch.push(tmp);
    const key = join(tmp, 'server.key');
    const crt = join(tmp, 'server.crt');
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    args.push('-days', '1', '-subj', '/CN=kubernetes', '-addext', 'subjectAltName=IP:127.0.0.1');
    const r = spawnSync('openssl', [...args, '-keyout', key, '-out', crt], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // The cluster CA the pod trusts: the server's own certificate, or (trustServer false) another one.
    const other = join(tmp, 'other');
    const r2 = spawnSync('openssl', [...args, '-keyout', `${other}.key`, '-out', `${other}.crt`], {
      encoding: 'utf8',
    });
    assert.equal(r2.status, 0, r2.stderr);
    writeFileSync(join(tmp, 'ca.crt'), readFileSync(trustServer ? crt : `${other}.crt`));
    writeFileSync(join(tmp, 'token'), 'sa-token\n');
    const seen: { path?: string; authorization?: string } = {};
    const server = createServer({ key: readFileSync(key), cert: readFileSync(crt) }, (req, res) => {
      seen.path = req.url;
      seen.authorization = req.headers.authorization;
      if (req.url !== PATH) {
        res.writeHead(404).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', data }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const script = initScript().replaceAll(SA_DIR, tmp).replaceAll(OUT, tmp);
    assert.ok(!script.includes('/var/run/') && !script.includes('/run/kjournal'), 'every path was moved');
    try {
      const child = spawn(process.execPath, ['-e', script], {
        env: {
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: String((server.address() as AddressInfo).port),
          REQUESTHEADER_ALLOWED_NAMES: allowedNames,
        },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const caFile = join(tmp, 'requestheader-ca.crt');
      const written = existsSync(caFile) ? readFileSync(caFile, 'utf8') : '';
      return { code, stderr, seen, written };
    } finally {
      server.close();
    }
  }

  const CA = '-----BEGIN CERTIFICATE-----\nZnJvbnQtcHJveHk=\n-----END CERTIFICATE-----\n';

  test('writes the front-proxy CA, asking with the ServiceAccount token', async () => {
    const r = await run(
      { 'requestheader-client-ca-file': CA, 'requestheader-allowed-names': '["front-proxy-client"]' },
      'front-proxy-client',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.written, CA);
    assert.equal(r.seen.path, PATH);
    assert.equal(r.seen.authorization, 'Bearer sa-token');
  });

  test('refuses to start when the allowed names differ from the cluster’s', async () => {
    const r = await run(
      { 'requestheader-client-ca-file': CA, 'requestheader-allowed-names': '["system:auth-proxy"]' },
      'front-proxy-client',
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"front-proxy-client" here but "system:auth-proxy" in this cluster/);
  });

  test('refuses to start when the cluster has no front-proxy CA', async () => {
    const r = await run({ 'client-ca-file': CA }, 'front-proxy-client');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no requestheader-client-ca-file/);
    assert.equal(r.written, '');
  });

  test('does not talk to an API server whose certificate the ServiceAccount CA did not sign', async () => {
    const r = await run({ 'requestheader-client-ca-file': CA }, '', false);
    assert.equal(r.code, 1);
    assert.equal(r.seen.authorization, undefined, 'the token was never sent');
    assert.equal(r.written, '');
  });

  test('an empty configured name list accepts whatever the cluster allows', async () => {
    const r = await run(
      { 'requestheader-client-ca-file': CA, 'requestheader-allowed-names': '["system:auth-proxy"]' },
      '',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.written, CA);
  });
});

// ---- overlays ----------------------------------------------------------------------------------

describe('deploy/overlays/cert-manager', () => {
  test('cert-manager issues kjournal-tls for the Service name and injects its CA into the APIService', () => {
    const objs = kustomize(join(DEPLOY, 'overlays', 'cert-manager'));
    const { pod } = assertServer(objs);
    const api = one<APIServiceSpec>(objs, 'APIService', 'v1alpha1.core.kjournal');
    const from = api.metadata.annotations?.['cert-manager.io/inject-ca-from'] ?? '';
    assert.match(from, /^[a-z0-9-]+\/[a-z0-9-]+$/, 'inject-ca-from is namespace/name');
    const [ns, name] = from.split('/') as [string, string];
    const cert = one<CertificateSpec>(objs, 'Certificate', name, ns);
    assert.equal(cert.apiVersion, 'cert-manager.io/v1');
    const tls = pod.volumes?.find((v) => v.name === 'tls');
    assert.equal(cert.spec.secretName, tls?.secret?.secretName, 'the Secret the server mounts');
    assert.ok(cert.spec.dnsNames.includes(`${api.spec.service?.name}.${api.spec.service?.namespace}.svc`));
    const issuerNs = cert.spec.issuerRef.kind === 'ClusterIssuer' ? undefined : ns;
    one(objs, cert.spec.issuerRef.kind, cert.spec.issuerRef.name, issuerNs);
    assert.equal(api.spec.caBundle, undefined, 'cainjector fills it');
    assert.equal(all(objs, 'DaemonSet').length, 0);
  });
});

describe('deploy/overlays/own-certs', () => {
  test('the certificate files become Secret kjournal-tls and the APIService caBundle', () => {
    // A copy of deploy/, so that no key is ever written into the working tree.
    const tmp = mkdtempSync(join(tmpdir(), 'kj-deploy-'));
    scratch.push(tmp);
    cpSync(DEPLOY, join(tmp, 'deploy'), { recursive: true });
    const dir = join(tmp, 'deploy', 'overlays', 'own-certs');
    for (const f of ['ca.crt', 'tls.crt', 'tls.key']) rmSync(join(dir, f), { force: true });
    if (opensslFound) {
      const r = spawnSync('sh', [join(dir, 'gen-certs.sh')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
      const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
      assert.ok(leaf.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
      assert.equal(leaf.checkHost('kjournal.kjournal.svc'), 'kjournal.kjournal.svc', 'for the Service name');
      assert.ok(ca.ca && !leaf.ca);
      const again = spawnSync('sh', [join(dir, 'gen-certs.sh')], { encoding: 'utf8' });
      assert.notEqual(again.status, 0, 'gen-certs.sh refuses to overwrite');
    } else {
      for (const f of ['ca.crt', 'tls.crt'])
        writeFileSync(join(dir, f), '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n');
      writeFileSync(
        join(dir, 'tls.key'),
        '-----BEGIN PRIVATE KEY-----\nZmFrZQ==\n-----END PRIVATE KEY-----\n',
      );
    }
    const objs = kustomize(dir);
    const api = one<APIServiceSpec>(objs, 'APIService', 'v1alpha1.core.kjournal');
    assert.ok(api.spec.caBundle, 'caBundle is set');
    assert.equal(
      Buffer.from(api.spec.caBundle, 'base64').toString('utf8'),
      readFileSync(join(dir, 'ca.crt'), 'utf8'),
      'caBundle is ca.crt',
    );
    const secrets = all(objs, 'Secret');
    assert.equal(secrets.length, 1);
    const secret = secrets[0]!;
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(secret.metadata.namespace, NS);
    assert.equal(
      Buffer.from(secret.data?.['tls.key'] ?? '', 'base64').toString('utf8'),
      readFileSync(join(dir, 'tls.key'), 'utf8'),
    );
    const { pod } = assertServer(objs);
    assert.equal(pod.volumes?.find((v) => v.name === 'tls')?.secret?.secretName, secret.metadata.name);
    assert.equal(all(objs, 'DaemonSet').length, 0);
  });

  test('the key files are ignored by git', () => {
    const ignore = readFileSync(join(DEPLOY, 'overlays', 'own-certs', '.gitignore'), 'utf8').split('\n');
    for (const f of ['ca.crt', 'tls.crt', 'tls.key']) assert.ok(ignore.includes(f), f);
  });
});

// ---- the node agent (deploy/agent), applied on its own -------------------------------------------

const AGENT_NS = 'kjournal-agent';
/** The flags `kjournal agent --help` lists (the built CLI, dist/src/cli/main.js). */
function agentHelpFlags(): Set<string> {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'agent', '--help'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return new Set(r.stdout.match(/--[a-z][a-z-]*/g) ?? []);
}

describe('deploy/agent (applied on its own)', () => {
  const objs = kustomize(join(DEPLOY, 'agent'));
  const ds = one<WorkloadSpec>(objs, 'DaemonSet', 'kjournal-agent', AGENT_NS);
  const pod = ds.spec.template.spec;
  const c = pod.containers[0]!;
  const args = argMap(c.args ?? []);
  const ev = one<WorkloadSpec>(objs, 'Deployment', 'kjournal-events', AGENT_NS);
  const evPod = ev.spec.template.spec;
  const evc = evPod.containers[0]!;
  const evArgs = argMap(evc.args ?? []);
  const mountOf = (p: PodSpec, ct: Container, path: string) => {
    const v = p.volumes?.find((x) => x.hostPath?.path === path);
    assert.ok(v, `hostPath ${path}`);
    const m = ct.volumeMounts?.filter((x) => x.name === v.name) ?? [];
    assert.equal(m.length, 1, `${path} mounted once`);
    return { volume: v, mount: m[0]! };
  };

  test('a namespace of its own, privileged (hostPath), not the restricted server namespace', () => {
    assert.notEqual(AGENT_NS, NS);
    const ns = one(objs, 'Namespace', AGENT_NS);
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass']);
    for (const o of objs)
      if (!clusterScoped.has(o.kind))
        assert.equal(o.metadata.namespace, AGENT_NS, `${o.kind} ${o.metadata.name}`);
      else assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
  });

  test('the DaemonSet runs `kjournal agent` with the flags the command has, to the kjournal Service', () => {
    assert.equal(pod.containers.length, 1);
    assert.equal(c.image, IMAGE);
    assert.equal(args.get(''), 'agent');
    const known = agentHelpFlags();
    assert.ok(known.has('--pod-labels') && known.has('--audit-log'), 'the help was read');
    for (const flag of [...args.keys()].filter((k) => k !== ''))
      assert.ok(known.has(flag), `${flag} is a flag of kjournal agent`);
    for (const flag of ['--server', '--state-dir', '--pods-dir', '--audit-log', '--journal', '--node'])
      assert.ok(args.has(flag), flag);
    for (const flag of [
      '--pod-labels',
      '--metrics',
      '--buffer-max-bytes',
      '--batch-max-bytes',
      '--batch-max-wait',
    ])
      assert.ok(args.has(flag), flag);
    assert.ok(!args.has('--events'), 'Events are collected once, by the Deployment, not on every node');
    assert.ok(!args.has('--insecure-skip-tls-verify'));

    // The server URL is the Service that deploy/ creates, on its port.
    const server = new URL(args.get('--server') ?? '');
    assert.equal(server.protocol, 'https:');
    const [svcName, svcNs, svc] = server.hostname.split('.');
    assert.equal(svc, 'svc');
    const service = one<ServiceSpec>(kustomize(DEPLOY), 'Service', svcName!, svcNs);
    assert.equal(svcNs, NS);
    assert.ok(service.spec.ports.some((p) => p.port === Number(server.port || 443)));

    // Node name from the downward API.
    assert.equal(args.get('--node'), '$(NODE_NAME)');
    const node = c.env?.find((e) => e.name === 'NODE_NAME');
    assert.equal(node?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    // The server's CA is a file on a volume; the token comes from a Secret, not from the manifest.
    const ca = volumeFor(pod, c, args.get('--certificate-authority') ?? '');
    assert.ok(ca.volume.configMap, 'the CA from a ConfigMap');
    assert.equal(args.get('--token'), undefined, 'no token in the process arguments');
    const token = volumeFor(pod, c, args.get('--token-file') ?? '');
    assert.equal(
      (token.volume as { secret?: { secretName: string } }).secret?.secretName,
      'kjournal-agent-token',
    );
  });

  test('host logs are mounted read-only, the state directory read-write', () => {
    for (const path of [
      '/var/log/pods',
      // docker json-file: the files under /var/log/pods are symlinks into it, followed by the agent.
      '/var/lib/docker/containers',
      '/var/log/kubernetes/audit',
      '/var/log/journal',
      '/run/log/journal',
    ]) {
      const { mount } = mountOf(pod, c, path);
      assert.equal(mount.readOnly, true, `${path} read-only`);
      assert.equal(mount.mountPath, path, `${path} at the same path`);
    }
    assert.equal(volumeFor(pod, c, `${args.get('--pods-dir')}/x`).volume.hostPath?.path, '/var/log/pods');
    assert.equal(
      volumeFor(pod, c, args.get('--audit-log') ?? '').volume.hostPath?.path,
      '/var/log/kubernetes/audit',
    );
    const state = mountOf(pod, c, '/var/lib/kjournal-agent');
    assert.equal(state.volume.hostPath?.type, 'DirectoryOrCreate');
    assert.notEqual(state.mount.readOnly, true, 'state is writable');
    assert.equal(state.mount.mountPath, args.get('--state-dir'));
    // Every other host path is read-only.
    for (const v of pod.volumes ?? [])
      if (v.hostPath && v !== state.volume)
        for (const m of c.volumeMounts?.filter((x) => x.name === v.name) ?? [])
          assert.equal(m.readOnly, true, `${v.hostPath.path} read-only`);
  });

  test('runs on every node: tolerates every taint (control-plane, dedicated pools, pressure)', () => {
    // A toleration with operator Exists and neither key nor effect matches every taint.
    assert.ok(
      pod.tolerations?.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined),
      JSON.stringify(pod.tolerations),
    );
  });

  test('a priority class of its own, high but below the system-* classes, so it is not evicted first', () => {
    const name = pod.priorityClassName ?? '';
    assert.equal(name, 'kjournal-agent');
    const pc = one(objs, 'PriorityClass', name) as unknown as {
      value: number;
      globalDefault?: boolean;
      apiVersion: string;
    };
    assert.equal(pc.apiVersion, 'scheduling.k8s.io/v1');
    // kube-apiserver refuses values above 1e9 outside the system- prefix; system-cluster-critical is 2e9.
    assert.equal(pc.value, 1_000_000_000);
    assert.notEqual(pc.globalDefault, true, 'not every pod of the cluster');
    assert.equal(ev.spec.template.spec.priorityClassName, undefined, 'the events watcher keeps the default');
  });

  test('docker json-file: /var/log/pods symlinks resolve inside the pod', () => {
    // kubelet with docker (cri-dockerd) links <pod dir>/<container>/<n>.log to the json-file log.
    const target = '/var/lib/docker/containers/abc/abc-json.log';
    const v = volumeFor(pod, c, target);
    assert.equal(v.volume.hostPath?.path, '/var/lib/docker/containers', 'mounted at the host path');
    assert.equal(v.key, 'abc/abc-json.log');
  });

  test('resources, probes on the metrics port, and a narrow security context', () => {
    const limit = bytesOf(c.resources?.limits?.memory);
    assert.ok(limit >= 150e6 && limit <= 256 * 2 ** 20, `memory limit ${c.resources?.limits?.memory}`);
    assert.ok(bytesOf(c.resources?.requests?.memory) <= limit);
    assert.ok(milliCpu(c.resources?.requests?.cpu) > 0);
    const metricsPort = Number((args.get('--metrics') ?? '').split(':').at(-1));
    const port = c.ports?.find((p) => p.containerPort === metricsPort);
    assert.ok(port, 'the metrics port is declared');
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      assert.equal(probe?.httpGet?.path, '/ready');
      assert.ok([port.name, metricsPort].includes(probe?.httpGet?.port), 'on the metrics port');
    }
    const sc = c.securityContext ?? {};
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.notEqual(sc.privileged, true);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    // Root only to read root-only log files, with that one capability.
    assert.equal(sc.runAsUser, 0);
    assert.deepEqual(sc.capabilities?.add, ['DAC_READ_SEARCH']);
    assert.equal((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, 'RuntimeDefault');
  });

  test('one Deployment collects Events: one replica, Recreate, no host paths, state on a claim', () => {
    assert.equal(ev.spec.replicas, 1);
    assert.equal(ev.spec.strategy?.type, 'Recreate', 'never two watchers at once');
    assert.equal(evPod.containers.length, 1);
    assert.equal(evc.image, IMAGE);
    assert.equal(evArgs.get(''), 'agent');
    assert.equal(evArgs.get('--events'), 'true');
    assert.ok(!evArgs.has('--kubeconfig'), 'in-cluster config');
    for (const flag of ['--pods-dir', '--audit-log', '--journal', '--pod-labels', '--node'])
      assert.ok(!evArgs.has(flag), `no ${flag}`);
    const known = agentHelpFlags();
    for (const flag of [...evArgs.keys()].filter((k) => k !== '')) assert.ok(known.has(flag), flag);
    assert.equal(evArgs.get('--server'), args.get('--server'));
    assert.ok(!(evPod.volumes ?? []).some((v) => v.hostPath), 'no hostPath');
    const state = volumeFor(evPod, evc, `${evArgs.get('--state-dir')}/positions`).volume;
    const claim = state.persistentVolumeClaim?.claimName ?? '';
    const pvc = one<{ accessModes: string[] }>(objs, 'PersistentVolumeClaim', claim, AGENT_NS);
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
    assertRestricted(evPod, evc);
    assert.ok(bytesOf(evc.resources?.limits?.memory) <= 256 * 2 ** 20);
    assert.equal(evc.readinessProbe?.httpGet?.path, '/ready');
    assert.equal(evc.livenessProbe?.httpGet?.path, '/ready');
    assert.notEqual(evPod.serviceAccountName, pod.serviceAccountName, 'its own ServiceAccount');
  });

  test('RBAC: each ServiceAccount reads only what it needs; pushes need create on core.kjournal only', () => {
    const rulesOf = (sa: string): PolicyRule[] => {
      one(objs, 'ServiceAccount', sa, AGENT_NS);
      const subject = { kind: 'ServiceAccount', name: sa, namespace: AGENT_NS };
      const bindings = all(objs, 'ClusterRoleBinding').filter((b) =>
        (b.subjects ?? []).some(
          (s) => s.kind === subject.kind && s.name === subject.name && s.namespace === subject.namespace,
        ),
      );
      assert.equal(all(objs, 'RoleBinding').length, 0);
      assert.equal(bindings.length, 1, `${sa}: one binding`);
      const role = one(objs, 'ClusterRole', bindings[0]!.roleRef?.name ?? '');
      assert.equal(isAggregated(role), false);
      return role.rules ?? [];
    };
    const summary = (rules: PolicyRule[]) =>
      rules.flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) =>
          (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)),
        ),
      );
    assert.deepEqual(summary(rulesOf(pod.serviceAccountName ?? '')).sort(), ['/pods:list', '/pods:watch']);
    assert.deepEqual(summary(rulesOf(evPod.serviceAccountName ?? '')).sort(), [
      '/events:get',
      '/events:list',
      '/events:watch',
    ]);
    // The push identity: create on the four kjournal resources, bound to one user, no ServiceAccount.
    const writers = all(objs, 'ClusterRole').filter((r) =>
      (r.rules ?? []).some((x) => x.verbs.some((v) => !['get', 'list', 'watch'].includes(v))),
    );
    assert.equal(writers.length, 1);
    const writer = writers[0]!;
    assert.equal(isAggregated(writer), false);
    assert.deepEqual(summary(writer.rules ?? []).sort(), [
      'core.kjournal/auditevents:create',
      'core.kjournal/containerlogs:create',
      'core.kjournal/events:create',
      'core.kjournal/logs:create',
    ]);
    const wb = all(objs, 'ClusterRoleBinding').filter((b) => b.roleRef?.name === writer.metadata.name);
    assert.equal(wb.length, 1);
    assert.deepEqual(
      wb[0]!.subjects?.map((s) => s.kind),
      ['User'],
    );
    for (const role of all(objs, 'ClusterRole'))
      for (const rule of role.rules ?? []) {
        assert.ok(!(rule.resources ?? []).some((r) => r === '*' || r === 'secrets' || r === 'pods/log'));
        assert.ok(!(rule.apiGroups ?? []).includes('*') && !rule.verbs.includes('*'));
      }
  });

  test('deploy/agent/server-auth makes the server accept the agents’ token', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kj-deploy-agent-'));
    scratch.push(tmp);
    cpSync(DEPLOY, join(tmp, 'deploy'), { recursive: true });
    const ov = join(tmp, 'overlay');
    mkdirSync(ov);
    writeFileSync(
      join(ov, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources: [../deploy]',
        'components: [../deploy/agent/server-auth]',
        '',
      ].join('\n'),
    );
    const rendered = kustomize(ov);
    const { pod: spod, main } = assertServer(rendered);
    const file = argMap(main.args ?? []).get('--token-auth-file');
    assert.ok(file, '--token-auth-file');
    const { volume } = volumeFor(spod, main, file);
    assert.equal(volume.secret?.secretName, 'kjournal-agent-tokens');
    assert.equal(
      argMap(main.args ?? []).get('--tls-cert-file'),
      '/etc/kjournal/tls/tls.crt',
      'the other args kept',
    );
    assert.equal(all(rendered, 'DaemonSet').length, 0, 'the component adds no agent');
    // And deploy/ alone does not ask for the token file.
    assert.equal(argMap(assertServer(kustomize(DEPLOY)).main.args ?? []).get('--token-auth-file'), undefined);
  });
});

// ---- deploy/audit-webhook: kube-apiserver's audit webhook -----------------------------------------

describe('deploy/audit-webhook', () => {
  const dir = join(DEPLOY, 'audit-webhook');
  const objs = kustomize(dir);

  test('the webhook user may create auditevents in kjournal, and nothing else', () => {
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/kjournal:audit-writer',
      'ClusterRoleBinding/kjournal:audit-writer',
    ]);
    const role = all(objs, 'ClusterRole')[0]!;
    assert.deepEqual(role.rules, [
      { apiGroups: ['core.kjournal'], resources: ['auditevents'], verbs: ['create'] },
    ]);
    const binding = objs.find((o) => o.kind === 'ClusterRoleBinding') as unknown as {
      subjects: { kind: string; name: string }[];
      roleRef: { name: string };
    };
    assert.deepEqual(
      binding.subjects.map((s) => `${s.kind}/${s.name}`),
      ['User/kjournal:audit-webhook'],
    );
    assert.equal(binding.roleRef.name, 'kjournal:audit-writer');
  });

  test("the policy for kube-apiserver is kjournal's default, and valid", async () => {
    const { DEFAULT_AUDIT_POLICY, loadAuditPolicyFile } = await import('../../src/audit/policy/index.js');
    assert.deepEqual(await loadAuditPolicyFile(join(dir, 'audit-policy.yaml')), DEFAULT_AUDIT_POLICY);
  });

  test('the webhook kubeconfig posts to /ingest/audit, checking the Service name', () => {
    const [doc] = parseAllDocuments(readFileSync(join(dir, 'webhook.kubeconfig'), 'utf8'));
    const kc = doc!.toJS() as {
      clusters: { cluster: { server: string; 'tls-server-name': string; 'certificate-authority': string } }[];
      users: { user: { token?: string } }[];
      'current-context': string;
    };
    const cluster = kc.clusters[0]!.cluster;
    assert.equal(
      new URL(cluster.server.replace('KJOURNAL_SERVICE_IP', '10.0.0.1')).pathname,
      '/ingest/audit',
    );
    assert.equal(cluster['tls-server-name'], 'kjournal.kjournal.svc');
    assert.ok(cluster['certificate-authority']);
    assert.equal(kc.users[0]!.user.token, 'WEBHOOK_TOKEN');
    assert.equal(kc['current-context'], 'default');
  });
});
