/**
 * @module The sources this build of `kjournal agent` runs, registered with the source registry:
 * importing this module once (src/cli/agent.ts does) makes every configured kind available. The
 * node name defaults to `$NODE_NAME` (a DaemonSet sets it from `spec.nodeName`), else the host name.
 */
import { hostname } from 'node:os';
import { createAuditLogSource } from '../sources/audit/index.js';
import { createEventsSource } from '../sources/events/index.js';
import { createJournalSource } from '../sources/journal/index.js';
import { createPodLogsSource } from '../sources/pods/index.js';
import { createSyslogSource } from '../sources/syslog/index.js';
import { registerSourceFactory } from './registry.js';

/** The node records are labelled with when `--node` is not given. */
export function defaultNode(env: NodeJS.ProcessEnv = process.env): string {
  return env.NODE_NAME && env.NODE_NAME !== '' ? env.NODE_NAME : hostname();
}

registerSourceFactory('pods', (section, ctx) =>
  createPodLogsSource({ dir: section.dir, node: ctx.node ?? defaultNode() }),
);

registerSourceFactory('audit', (section, ctx) =>
  createAuditLogSource({ path: section.path, node: ctx.node ?? defaultNode() }),
);

registerSourceFactory('events', (section) =>
  createEventsSource(
    section.kubeconfig !== undefined ? { kubeconfig: section.kubeconfig } : { inCluster: true },
  ),
);

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
