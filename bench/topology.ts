/**
 * @module The simulated cluster behind the bench data set: nodes, namespaces, workloads, pods and
 * containers, and the ~300 log streams they produce, each with a line format and a weight.
 */
import type { Rng } from './rng.js';

export type Format = 'json' | 'kata' | 'plain' | 'audit';

/** How the lines of a stream look, within its format. */
export type Style =
  | 'zap'
  | 'pino'
  | 'logrus'
  | 'structlog'
  | 'kata'
  | 'audit'
  | 'nginx'
  | 'envoy'
  | 'haproxy'
  | 'java'
  | 'klog'
  | 'coredns'
  | 'promlogfmt'
  | 'redis'
  | 'etcd'
  | 'vector';

export interface Sandbox {
  readonly id: string;
  readonly pid: number;
}

export interface Stream {
  readonly index: number;
  /** Labels in name order. */
  readonly labels: Readonly<Record<string, string>>;
  /** The labels as Loki prints them: `{app="x", namespace="y"}`. */
  readonly key: string;
  readonly format: Format;
  readonly style: Style;
  readonly weight: number;
  readonly namespace: string;
  /** Workload (deployment, daemonset, ...) or node service name. */
  readonly app: string;
  readonly pod: string;
  readonly node: string;
  readonly podIp: string;
  readonly pid: number;
  /** Kata sandboxes running on the node (kata streams only). */
  readonly sandboxes: readonly Sandbox[];
}

interface Workload {
  ns: string;
  app: string;
  kind: 'deploy' | 'sts' | 'ds' | 'static' | 'cron';
  replicas: number;
  /** Relative traffic of one pod. */
  weight: number;
  containers: readonly (readonly [name: string, style: Style])[];
  mastersOnly: boolean;
}

const POD_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * namespace, workload, kind (`static` pods run on the masters, `ds` on every node), replicas, weight
 * of one pod, containers as `name:style`.
 */
// biome-ignore format: a table
const TABLE: readonly (readonly [string, string, Workload['kind'], number, number, string])[] = [
  // shop: the busy storefront, every pod with an Envoy sidecar.
  ['shop', 'checkout', 'deploy', 4, 9, 'checkout:zap istio-proxy:envoy'],
  ['shop', 'cart', 'deploy', 3, 7, 'cart:pino istio-proxy:envoy'],
  ['shop', 'catalog', 'deploy', 3, 6, 'catalog:logrus istio-proxy:envoy'],
  ['shop', 'search', 'deploy', 2, 6, 'search:structlog istio-proxy:envoy'],
  ['shop', 'recommendation', 'deploy', 2, 4, 'recommendation:structlog istio-proxy:envoy'],
  ['shop', 'inventory', 'deploy', 2, 4, 'inventory:zap istio-proxy:envoy'],
  ['shop', 'shipping', 'deploy', 2, 3, 'shipping:logrus istio-proxy:envoy'],
  ['shop', 'frontend', 'deploy', 4, 6, 'nginx:nginx istio-proxy:envoy'],
  ['payments', 'payment-gateway', 'deploy', 3, 6, 'gateway:zap istio-proxy:envoy'],
  ['payments', 'fraud-detector', 'deploy', 2, 4, 'detector:structlog istio-proxy:envoy'],
  ['payments', 'ledger', 'deploy', 2, 4, 'ledger:java istio-proxy:envoy'],
  ['payments', 'refunds', 'deploy', 2, 2, 'refunds:pino istio-proxy:envoy'],
  ['payments', 'payments-worker', 'deploy', 3, 3, 'worker:zap istio-proxy:envoy'],
  ['auth', 'auth-api', 'deploy', 3, 5, 'auth-api:pino'],
  ['auth', 'token-service', 'deploy', 2, 4, 'token-service:zap'],
  ['auth', 'session-cache', 'sts', 3, 1, 'redis:redis'],
  ['notifications', 'email-sender', 'deploy', 2, 2, 'sender:structlog'],
  ['notifications', 'sms-gateway', 'deploy', 2, 1, 'sms-gateway:logrus'],
  ['notifications', 'push-dispatcher', 'deploy', 2, 2, 'dispatcher:pino'],
  ['analytics', 'event-collector', 'deploy', 4, 4, 'collector:zap'],
  ['analytics', 'spark-driver', 'deploy', 1, 3, 'driver:java'],
  ['analytics', 'kafka', 'sts', 3, 3, 'kafka:java'],
  ['media', 'image-resizer', 'deploy', 3, 2, 'resizer:zap'],
  ['media', 'thumbnailer', 'deploy', 2, 1, 'thumbnailer:structlog'],
  ['reporting', 'report-builder', 'cron', 4, 1, 'builder:java'],
  ['default', 'legacy-api', 'deploy', 2, 2, 'legacy-api:java'],
  ['default', 'demo-app', 'deploy', 1, 0.5, 'demo-app:logrus'],
  // cluster infrastructure
  ['kube-system', 'kube-proxy', 'ds', 0, 0.5, 'kube-proxy:klog'],
  ['kube-system', 'coredns', 'deploy', 2, 3, 'coredns:coredns'],
  ['kube-system', 'etcd', 'static', 0, 2, 'etcd:etcd'],
  ['kube-system', 'kube-apiserver', 'static', 0, 3, 'kube-apiserver:klog'],
  ['kube-system', 'kube-controller-manager', 'static', 0, 2, 'kube-controller-manager:klog'],
  ['kube-system', 'kube-scheduler', 'static', 0, 1, 'kube-scheduler:klog'],
  ['kube-system', 'metrics-server', 'deploy', 2, 0.5, 'metrics-server:klog'],
  ['openshift-monitoring', 'prometheus-k8s', 'sts', 2, 1.5, 'prometheus:promlogfmt config-reloader:promlogfmt thanos-sidecar:promlogfmt'],
  ['openshift-monitoring', 'alertmanager-main', 'sts', 3, 1, 'alertmanager:promlogfmt'],
  ['openshift-monitoring', 'node-exporter', 'ds', 0, 0.3, 'node-exporter:promlogfmt kube-rbac-proxy:klog'],
  ['openshift-monitoring', 'kube-state-metrics', 'deploy', 1, 1, 'kube-state-metrics:klog kube-rbac-proxy:klog'],
  ['openshift-monitoring', 'thanos-querier', 'deploy', 2, 1, 'thanos-query:promlogfmt'],
  ['openshift-ingress', 'router-default', 'deploy', 3, 3, 'router:haproxy'],
  ['openshift-dns', 'dns-default', 'ds', 0, 0.6, 'dns:coredns kube-rbac-proxy:klog'],
  ['openshift-ovn-kubernetes', 'ovnkube-node', 'ds', 0, 0.6, 'ovnkube-controller:klog ovn-controller:klog'],
  ['openshift-machine-config-operator', 'machine-config-daemon', 'ds', 0, 0.2, 'machine-config-daemon:klog kube-rbac-proxy:klog'],
  ['openshift-image-registry', 'image-registry', 'deploy', 2, 1, 'registry:logrus'],
  ['openshift-console', 'console', 'deploy', 2, 0.5, 'console:klog'],
  ['openshift-console', 'downloads', 'deploy', 2, 0.2, 'download-server:nginx'],
  ['openshift-operator-lifecycle-manager', 'olm-operator', 'deploy', 1, 0.5, 'olm-operator:logrus'],
  ['openshift-operator-lifecycle-manager', 'catalog-operator', 'deploy', 1, 0.5, 'catalog-operator:logrus'],
  ['openshift-operator-lifecycle-manager', 'packageserver', 'deploy', 2, 0.3, 'packageserver:klog'],
  ['openshift-logging', 'collector', 'ds', 0, 0.4, 'collector:vector'],
];

const WORKLOADS: readonly Workload[] = TABLE.map(([ns, app, kind, replicas, weight, containers]) => ({
  ns,
  app,
  kind,
  replicas,
  weight,
  containers: containers.split(' ').map((c) => c.split(':') as [string, Style]),
  mastersOnly: kind === 'static',
}));

const JSON_STYLES: readonly Style[] = ['zap', 'pino', 'logrus', 'structlog', 'etcd'];

function formatOf(style: Style): Format {
  if (JSON_STYLES.includes(style)) return 'json';
  if (style === 'kata' || style === 'audit') return style;
  return 'plain';
}

function lokiKey(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function sorted(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

export interface Cluster {
  readonly streams: readonly Stream[];
  readonly nodes: readonly string[];
  readonly masters: readonly string[];
  readonly workers: readonly string[];
}

/** Builds the cluster. Uses its own draws from `rng`, so build it first. */
export function buildCluster(rng: Rng): Cluster {
  const nodeName = (): string => `ip-10-0-${rng.range(128, 191)}-${rng.range(2, 254)}.ec2.internal`;
  const masters = [nodeName(), nodeName(), nodeName()];
  const workers = Array.from({ length: 11 }, nodeName);
  const nodes = [...masters, ...workers];
  const streams: Stream[] = [];
  const add = (
    labels: Record<string, string>,
    style: Style,
    weight: number,
    extra: Partial<Stream> & { namespace: string; app: string; pod: string; node: string },
  ): void => {
    const l = sorted(labels);
    streams.push({
      index: streams.length,
      labels: l,
      key: lokiKey(l),
      format: formatOf(style),
      style,
      weight,
      podIp: `10.${rng.range(128, 131)}.${rng.int(256)}.${rng.range(2, 254)}`,
      pid: style === 'java' || style === 'redis' ? rng.range(1, 9) : 1,
      sandboxes: [],
      ...extra,
    });
  };

  for (const w of WORKLOADS) {
    const hosts = w.mastersOnly ? masters : w.kind === 'ds' ? nodes : workers;
    const count = w.kind === 'ds' || w.kind === 'static' ? hosts.length : w.replicas;
    const rsHash = rng.chars(POD_ALPHABET, rng.chance(0.5) ? 9 : 10);
    let cronRun = 28_391_040 + rng.int(5000);
    for (let i = 0; i < count; i++) {
      const node = w.kind === 'ds' || w.kind === 'static' ? hosts[i]! : rng.pick(hosts);
      let pod: string;
      if (w.kind === 'deploy') pod = `${w.app}-${rsHash}-${rng.chars(POD_ALPHABET, 5)}`;
      else if (w.kind === 'sts') pod = `${w.app}-${i}`;
      else if (w.kind === 'ds') pod = `${w.app}-${rng.chars(POD_ALPHABET, 5)}`;
      else if (w.kind === 'static') pod = `${w.app}-${node}`;
      else {
        cronRun += 60;
        pod = `${w.app}-${cronRun}-${rng.chars(POD_ALPHABET, 5)}`;
      }
      const podWeight = w.weight * (0.6 + 0.8 * rng.float());
      for (const [container, style] of w.containers) {
        const labels = { namespace: w.ns, pod, container, node, app: w.app };
        const share = container === 'istio-proxy' ? 0.7 : container === 'kube-rbac-proxy' ? 0.2 : 1;
        add(labels, style, podWeight * share, { namespace: w.ns, app: w.app, pod, node });
      }
    }
  }
  // Kata runtime lines come from each worker's journal (containerd's shim), one stream per node.
  for (const node of workers) {
    const sandboxes = Array.from({ length: rng.range(6, 24) }, () => ({
      id: rng.hex(64),
      pid: rng.range(2000, 3_999_999),
    }));
    add({ job: 'node-journal', node, unit: 'containerd.service' }, 'kata', 1 + rng.float(), {
      namespace: '',
      app: 'kata-runtime',
      pod: '',
      node,
      sandboxes,
    });
  }
  // Kubernetes audit events, one stream per API server.
  for (const node of masters) {
    add({ kind: 'auditevent', node, job: 'kube-apiserver-audit' }, 'audit', 1 + 0.3 * rng.float(), {
      namespace: '',
      app: 'kube-apiserver',
      pod: '',
      node,
    });
  }
  return { streams, nodes, masters, workers };
}
