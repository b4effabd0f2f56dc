/**
 * @module The sources this build of `kjournal agent` runs, registered with the source registry:
 * importing this module once (src/cli/agent.ts does) makes every configured kind available. The
 * node name defaults to `$NODE_NAME` (a DaemonSet sets it from `spec.nodeName`), else the host name.
 * With `pods.labels`, the pods source adds pod labels from an informer on this node's pods.
 * The modules that need @kubernetes/client-node (events, pod labels) are imported only when their
 * source is configured: that library alone is tens of MiB of heap an agent tailing files never needs.
 */
import { hostname } from 'node:os';
import { createAuditLogSource } from './audit/index.js';
import { createJournalSource } from './journal/index.js';
import { createPodLogsSource } from './pods/index.js';
import { registerSourceFactory, SourceUnavailableError } from './registry.js';
import { createSyslogSource } from './syslog/index.js';

/** The node records are labelled with when `--node` is not given. */
export function defaultNode(env: NodeJS.ProcessEnv = process.env): string {
  return env.NODE_NAME && env.NODE_NAME !== '' ? env.NODE_NAME : hostname();
}

registerSourceFactory('pods', async (section, ctx) => {
  const node = ctx.node ?? defaultNode();
  if (!section.labels) return createPodLogsSource({ dir: section.dir, node });
  // Pod labels: one informer over this node's pods, through --kubeconfig or the in-cluster config.
  const inCluster = section.kubeconfig === undefined;
  if (inCluster && !process.env.KUBERNETES_SERVICE_HOST)
    throw new SourceUnavailableError(
      'pod labels: not running in a cluster (no KUBERNETES_SERVICE_HOST); give --kubeconfig',
    );
  const { createPodLabelCache, withPodLabels } = await import('./pods/labels.js');
  let cache: ReturnType<typeof createPodLabelCache>;
  try {
    cache = createPodLabelCache({
      ...(inCluster ? { inCluster: true } : { kubeconfig: section.kubeconfig }),
      node,
    });
  } catch (err) {
    throw new SourceUnavailableError(`pod labels: ${(err as Error).message}`);
  }
  return withPodLabels(createPodLogsSource({ dir: section.dir, node, labelsFor: cache.labelsFor }), cache);
});

registerSourceFactory('audit', (section, ctx) =>
  createAuditLogSource({ path: section.path, node: ctx.node ?? defaultNode() }),
);

registerSourceFactory('events', async (section) => {
  const { createEventsSource } = await import('./events/index.js');
  return createEventsSource(
    section.kubeconfig !== undefined ? { kubeconfig: section.kubeconfig } : { inCluster: true },
  );
});

registerSourceFactory('journal', (section, ctx) =>
  createJournalSource({
    node: ctx.node ?? defaultNode(),
    ...(section.dir !== undefined ? { directory: section.dir } : {}),
    matches: section.matches,
  }),
);

registerSourceFactory('syslog', (section, ctx) =>
  createSyslogSource({
    node: ctx.node ?? defaultNode(),
    ...(section.tcp !== undefined ? { tcp: section.tcp } : {}),
    ...(section.udp !== undefined ? { udp: section.udp } : {}),
  }),
);
