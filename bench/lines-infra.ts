/**
 * @module Platform lines: Kata runtime (logfmt), Kubernetes audit events, klog, CoreDNS, Prometheus-style
 * logfmt, etcd, Vector, Spring Boot (Java) and Redis.
 */
import { isoUsOf } from './clock.js';
import type { Ctx } from './lines-app.js';
import { errorText } from './lines-app.js';
import { pickSku, pickUser, WORDS } from './pools.js';
import type { Rng } from './rng.js';
import type { Stream } from './topology.js';

const NAMESPACES = [
  'shop',
  'payments',
  'auth',
  'notifications',
  'analytics',
  'media',
  'default',
  'kube-system',
  'openshift-monitoring',
];
const APPS = [
  'checkout',
  'cart',
  'catalog',
  'search',
  'payment-gateway',
  'ledger',
  'auth-api',
  'event-collector',
];
const podIp = (rng: Rng): string => `10.${rng.range(128, 131)}.${rng.int(256)}.${rng.range(2, 254)}`;
const podName = (rng: Rng): string =>
  `${rng.pick(APPS)}-${rng.hex(9)}-${rng.chars('bcdfghjklmnpqrstvwxz2456789', 5)}`;

const GRPC = [
  'grpc.CheckRequest',
  'grpc.StatsContainerRequest',
  'grpc.WaitProcessRequest',
  'grpc.ReadStreamRequest',
  'grpc.GetGuestDetailsRequest',
  'grpc.UpdateInterfaceRequest',
];
const CONSOLE = [
  'kata-agent: starting agent',
  'pci 0000:00:02.0: PCI bridge to [bus 01]',
  'virtio_net virtio1 eth0: renamed',
  'EXT4-fs (vda1): mounted filesystem with ordered data mode',
  'random: crng init done',
  'virtiofsd: lo_lookup: inode not found',
];

export function kataLine(ctx: Ctx, s: Stream): string {
  const { rng, clock } = ctx;
  const sb = s.sandboxes[rng.skewed(s.sandboxes.length, 1.5)]!;
  let level = 'debug';
  let msg: string;
  let extra = '';
  let subsystem = 'kata_agent';
  let source = 'virtcontainers';
  const r = rng.float();
  if (r < 0.3) {
    msg = rng.chance(0.5) ? 'sending request' : 'received response';
    extra = ` request=${rng.pick(GRPC)}`;
  } else if (r < 0.4) {
    level = 'info';
    msg = 'reading guest console';
    extra = ` vmconsole="[${(rng.float() * 9000).toFixed(6).padStart(12)}] ${rng.pick(CONSOLE)}"`;
  } else if (r < 0.65) {
    level = 'info';
    subsystem = 'sandbox';
    msg = rng.pick(['Stats sandbox', 'Requesting container stats', 'IOStream copy', 'Checking sandbox']);
    if (rng.chance(0.05)) extra = ` container=${rng.hex(64)}`;
  } else if (r < 0.8) {
    level = 'info';
    subsystem = rng.pick(['qemu', 'hypervisor', 'network']);
    msg = rng.pick([
      'Starting VM',
      'VM started',
      'hot plugging device',
      'Endpoints found after scan',
      'Attaching endpoint',
      'Stopping VM',
    ]);
    if (subsystem === 'network')
      extra = ` endpoint-type=virtual hwaddr=${rng.hex(12).replace(/(..)(?!$)/g, '$1:')}`;
    if (subsystem === 'qemu') extra = ` qemu-pid=${rng.range(3000, 4_000_000)}`;
  } else if (r < 0.9) {
    level = 'warning';
    source = 'runtime';
    subsystem = rng.pick(['katautils', 'cgroups', 'sandbox']);
    msg = rng.pick([
      'Could not add /dev/mshv to the devices cgroup',
      'failed to get guest details: timeout waiting for agent',
      'sandbox cgroup already exists',
      'agent did not answer the health check in time',
    ]);
  } else if (r < 0.95) {
    level = 'error';
    msg = 'Wait for process failed';
    const why = rng.chance(0.5)
      ? `rpc error: code = DeadlineExceeded desc = timed out after ${rng.range(1000, 30000)}ms`
      : 'rpc error: code = Unavailable desc = ttrpc: closed';
    extra = ` error="${why}"`;
  } else {
    msg = 'container exited';
    extra = ` exit-code=${rng.pick([0, 0, 0, 1, 137, 143])}`;
  }
  return `time="${clock.isoNs()}" level=${level} msg="${msg}"${extra} pid=${sb.pid} sandbox=${sb.id} source=${source} subsystem=${subsystem} name=kata-runtime`;
}

const SYSTEM_USERS = [
  ['system:kube-controller-manager', 'kube-controller-manager'],
  ['system:kube-scheduler', 'kube-scheduler'],
  ['system:apiserver', 'kube-apiserver'],
  ['system:serviceaccount:openshift-monitoring:prometheus-k8s', 'prometheus'],
  ['system:serviceaccount:openshift-ovn-kubernetes:ovn-kubernetes-node', 'ovnkube'],
  ['system:serviceaccount:kube-system:replicaset-controller', 'kube-controller-manager'],
  ['system:serviceaccount:openshift-logging:collector', 'vector'],
  ['system:serviceaccount:shop:checkout', 'Go-http-client'],
] as const;
const RESOURCES = [
  ['pods', '', 'v1'],
  ['configmaps', '', 'v1'],
  ['secrets', '', 'v1'],
  ['leases', 'coordination.k8s.io', 'v1'],
  ['events', '', 'v1'],
  ['deployments', 'apps', 'v1'],
  ['endpointslices', 'discovery.k8s.io', 'v1'],
] as const;

export function auditLine(ctx: Ctx, s: Stream, nodes: readonly string[]): string {
  const { rng, clock, pools } = ctx;
  const [resource, group, version] = RESOURCES[rng.skewed(RESOURCES.length, 1.6)]!;
  const ns = rng.pick(NAMESPACES);
  const verb = rng.pick([
    'get',
    'get',
    'get',
    'get',
    'update',
    'update',
    'update',
    'update',
    'list',
    'watch',
    'patch',
    'create',
    'delete',
  ]);
  let username: string;
  let agent: string;
  const who = rng.float();
  if (who < 0.35) {
    const node = rng.pick(nodes);
    username = `system:node:${node}`;
    agent = 'kubelet/v1.29.4 (linux/amd64) kubernetes/6b0d9b5';
  } else if (who < 0.94) {
    const [u, a] = rng.pick(SYSTEM_USERS);
    username = u;
    agent = `${a}/v1.29.4 (linux/amd64) kubernetes/6b0d9b5`;
  } else {
    username = pickUser(rng, pools).email;
    agent = `kubectl/v1.29.${rng.range(0, 4)} (${rng.pick(['darwin/arm64', 'linux/amd64', 'windows/amd64'])}) kubernetes/6813625`;
  }
  const name =
    resource === 'leases'
      ? rng.pick(nodes)
      : resource === 'pods'
        ? podName(rng)
        : `${rng.pick(APPS)}-${rng.pick(['config', 'tls', 'env'])}`;
  const base = `/${group ? `apis/${group}` : 'api'}/${version}/namespaces/${ns}/${resource}`;
  let uri = verb === 'list' || verb === 'watch' || verb === 'create' ? base : `${base}/${name}`;
  if (verb === 'list') uri += `?limit=500&resourceVersion=${rng.range(1e6, 9e7)}`;
  if (verb === 'watch') {
    const t = rng.range(300, 600);
    uri += `?allowWatchBookmarks=true&resourceVersion=${rng.range(1e6, 9e7)}&timeout=${Math.floor(t / 60)}m${t % 60}s&timeoutSeconds=${t}&watch=true`;
  }
  const code =
    verb === 'create' && rng.chance(0.1)
      ? 409
      : verb === 'get' && rng.chance(0.08)
        ? 404
        : verb === 'create'
          ? 201
          : 200;
  const received = clock.isoUs();
  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: rng.uuid(),
    stage: 'ResponseComplete',
    requestURI: uri,
    verb,
    user: {
      username,
      groups: username.startsWith('system:')
        ? ['system:authenticated']
        : ['developers', 'system:authenticated:oauth', 'system:authenticated'],
    },
    sourceIPs: [
      username.startsWith('system:node') ? `10.0.${rng.range(128, 191)}.${rng.range(2, 254)}` : podIp(rng),
    ],
    userAgent: agent,
    objectRef: {
      resource,
      namespace: ns,
      name: verb === 'list' || verb === 'watch' ? undefined : name,
      apiGroup: group || undefined,
      apiVersion: version,
    },
    responseStatus: { metadata: {}, code },
    requestReceivedTimestamp: received,
    stageTimestamp: isoUsOf(clock.ns + BigInt(Math.round(rng.lognormal(4000, 1.2)) * 1000)),
    annotations: {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason':
        username.startsWith('system:') && rng.chance(0.85)
          ? undefined
          : `RBAC: allowed by ClusterRoleBinding "${rng.pick(['system:controller', 'cluster-admin', 'view'])}"`,
    },
  };
  void s;
  return JSON.stringify(event);
}

const KLOG: readonly ((ctx: Ctx, s: Stream) => string)[] = [
  ({ rng }) => `proxier.go:796] "SyncProxyRules complete" elapsed="${(rng.lognormal(40, 0.6)).toFixed(3)}ms"`,
  ({ rng }) =>
    `replica_set.go:676] "Finished syncing" kind="ReplicaSet" key="${rng.pick(NAMESPACES)}/${rng.pick(APPS)}-${rng.hex(9)}" duration="${rng.range(40, 900)}.${rng.range(100, 999)}µs"`,
  ({ rng }, s) =>
    `schedule_one.go:286] "Successfully bound pod to node" pod="${rng.pick(NAMESPACES)}/${podName(rng)}" node="${s.node}" evaluatedNodes=14 feasibleNodes=${rng.range(3, 11)}`,
  ({ rng }) =>
    `httplog.go:132] "HTTP" verb="GET" URI="/api/v1/namespaces/${rng.pick(NAMESPACES)}/pods?limit=500" latency="${rng.lognormal(8, 0.8).toFixed(3)}ms" audit-ID="${rng.uuid()}" srcIP="${podIp(rng)}:${rng.range(30000, 60999)}" resp=200`,
  ({ rng }) => `obj_retry.go:296] Retry object setup: *v1.Pod ${rng.pick(NAMESPACES)}/${podName(rng)}`,
  ({ rng }) =>
    `reflector.go:325] Listing and watching *v1.${rng.pick(['ConfigMap', 'Secret', 'Pod', 'Node'])} from k8s.io/client-go/informers/factory.go:159`,
  ({ rng }) =>
    `reflector.go:539] failed to list *v1.Secret: Get "https://172.30.0.1:443/api/v1/secrets?resourceVersion=${rng.range(1e6, 9e7)}": net/http: TLS handshake timeout`,
];

export function klogLine(ctx: Ctx, s: Stream): string {
  const { rng, clock } = ctx;
  const i = rng.skewed(KLOG.length, 1.3);
  const sev = i === KLOG.length - 1 ? 'E' : rng.chance(0.05) ? 'W' : 'I';
  return `${sev}${clock.klog()}       ${s.pid} ${KLOG[i]!(ctx, s)}`;
}

export function corednsLine(ctx: Ctx, _s: Stream): string {
  const { rng } = ctx;
  const name = `${rng.pick(APPS)}.${rng.pick(NAMESPACES)}.svc.cluster.local.`;
  const rcode = rng.chance(0.9) ? 'NOERROR' : 'NXDOMAIN';
  return `[INFO] ${podIp(rng)}:${rng.range(30000, 60999)} - ${rng.int(65536)} "${rng.pick(['A', 'AAAA'])} IN ${name} udp ${rng.range(40, 90)} false 512" ${rcode} qr,aa,rd ${rng.range(90, 200)} ${rng.lognormal(0.0002, 0.8).toFixed(6)}s`;
}

export function promLine(ctx: Ctx, s: Stream): string {
  const { rng, clock } = ctx;
  const r = rng.float();
  let body: string;
  if (r < 0.4)
    body = `caller=compact.go:523 level=info component=tsdb msg="write block" mint=${clock.ms - 7_200_000} maxt=${clock.ms} ulid=01H${rng.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 23)} duration=${rng.lognormal(900, 0.5).toFixed(0)}ms`;
  else if (r < 0.7)
    body = `caller=scrape.go:1372 level=debug component="scrape manager" scrape_pool=serviceMonitor/${s.namespace}/${rng.pick(APPS)}/0 target=http://${podIp(rng)}:8080/metrics msg="Scrape failed" err="context deadline exceeded"`;
  else if (r < 0.9)
    body = `caller=head.go:1293 level=info component=tsdb msg="Head GC completed" caller=truncateMemory duration=${rng.lognormal(30, 0.5).toFixed(3)}ms`;
  else
    body = `caller=notifier.go:530 level=warn component=notifier alertmanager=http://${podIp(rng)}:9093/api/v2/alerts count=${rng.range(1, 9)} msg="Error sending alert" err="Post context deadline exceeded"`;
  return `ts=${clock.iso} ${body}`;
}

export function etcdLine(ctx: Ctx, _s: Stream): string {
  const { rng, clock } = ctx;
  if (rng.chance(0.6)) {
    return JSON.stringify({
      level: 'info',
      ts: clock.isoUs(),
      caller: 'mvcc/index.go:214',
      msg: 'compact tree index',
      revision: rng.range(1e7, 9e7),
    });
  }
  return JSON.stringify({
    level: 'warn',
    ts: clock.isoUs(),
    caller: 'etcdserver/util.go:170',
    msg: 'apply request took too long',
    took: `${rng.range(100, 900)}.${rng.range(100000, 999999)}ms`,
    expected: '100ms',
    request: `key:"/kubernetes.io/pods/${rng.pick(NAMESPACES)}/${podName(rng)}" `,
  });
}

export function vectorLine(ctx: Ctx, _s: Stream): string {
  const { rng, clock } = ctx;
  if (rng.chance(0.8)) {
    return `${clock.isoUs()}  INFO vector::internal_events::file::source: Found new file to watch. file=/var/log/pods/${rng.pick(NAMESPACES)}_${podName(rng)}_${rng.uuid()}/${rng.pick(APPS)}/0.log`;
  }
  return `${clock.isoUs()}  WARN sink{component_kind="sink" component_id=default_loki}: vector::sinks::util::retries: Retrying after error. error=Server responded with an error: 429 Too Many Requests`;
}

const JAVA_LOGGERS = [
  'c.e.ledger.service.PostingService',
  'o.a.kafka.clients.NetworkClient',
  'o.s.web.servlet.DispatcherServlet',
  'c.z.hikari.pool.HikariPool',
  'c.e.reporting.ReportJob',
];

export function javaLine(ctx: Ctx, s: Stream): string {
  const { rng, clock, pools } = ctx;
  const thread = rng.chance(0.7)
    ? `nio-8080-exec-${rng.range(1, 200)}`
    : `kafka-producer-network-thread | producer-${rng.range(1, 4)}`;
  const logger = JAVA_LOGGERS[rng.skewed(JAVA_LOGGERS.length, 1.5)]!.padEnd(40);
  let level = ' INFO';
  let msg: string;
  const r = rng.float();
  if (r < 0.55) {
    msg = `Posted journal entry ${rng.range(1e7, 9e7)} for account ACC-${pickUser(rng, pools).id.slice(1)} amount=${(rng.lognormal(5000, 1) / 100).toFixed(2)} ${rng.pick(['EUR', 'USD', 'GBP'])}`;
  } else if (r < 0.75) {
    msg = `Processed ${rng.range(1, 500)} records from topic ${rng.pick(WORDS)}-events partition ${rng.int(12)} offset ${rng.range(1e6, 9e8)}`;
  } else if (r < 0.88) {
    msg = `HikariPool-1 - Connection ${rng.pick(['org.postgresql.jdbc.PgConnection', 'com.mysql.cj.jdbc.ConnectionImpl'])}@${rng.hex(8)} marked as broken`;
    level = ' WARN';
  } else if (r < 0.96) {
    level = 'ERROR';
    msg = rng.chance(0.5)
      ? `java.net.SocketTimeoutException: Read timed out after ${rng.range(1000, 60000)}ms`
      : `Failed to process order ${rng.range(1e7, 9e7)}: ${errorText(rng)}`;
  } else {
    level = 'DEBUG';
    msg = `Cache lookup sku=${pickSku(rng, pools)} hit=${rng.chance(0.8)}`;
  }
  return `${clock.java()} ${level} ${s.pid} --- [${thread.padStart(15).slice(-15)}] ${logger} : ${msg}`;
}

export function redisLine(ctx: Ctx, s: Stream): string {
  const { rng, clock } = ctx;
  const msg = rng.pick([
    `${rng.range(1, 10000)} changes in 300 seconds. Saving...`,
    `Background saving started by pid ${rng.range(100, 99999)}`,
    'DB saved on disk',
    `Fork CoW for RDB: current ${rng.range(1, 9)} MB, peak ${rng.range(1, 9)} MB, average ${rng.range(1, 9)} MB`,
    'Background saving terminated with success',
  ]);
  return `${s.pid}:M ${clock.redis()} * ${msg}`;
}
