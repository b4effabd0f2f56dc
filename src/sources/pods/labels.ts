/**
 * @module Pod labels for the `pods` source, from the Kubernetes API: one informer (a list, then a
 * watch, through `@kubernetes/client-node`'s ListWatch) over the pods of this node
 * (`fieldSelector=spec.nodeName=<node>`), never a request per file. `labelsFor(namespace, pod)` is a
 * map lookup; it answers the Viaq spelling `kubernetes_labels_<safe name>` (the spelling korrel8r and
 * the Kubernetes-compatible API's label selectors use; queries also find it as `k8s_pod_labels_*`).
 * The object answered for one pod stays the same until the pod's labels change, so the pods
 * source's per-file label cache stays valid. A pod DELETED from the API is forgotten.
 *
 * The informer stops on an error (the API server unreachable, 403, ...); it is restarted after
 * `retryDelayMs`, resuming its watch from the last resourceVersion (or relisting after 410 Gone).
 */
import { CoreV1Api, KubeConfig, ListWatch, type V1Pod, Watch } from '@kubernetes/client-node';
import { safeName } from '../../model/names.js';
import type { Source, SourceContext } from '../source.js';

export const POD_LABEL_PREFIX = 'kubernetes_labels_';

export interface PodLabelCacheOptions {
  /** A kubeconfig file; without it, `inCluster` must be set. */
  readonly kubeconfig?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  readonly inCluster?: boolean;
  /** Only the pods of this node (`spec.nodeName`); all pods when absent. */
  readonly node?: string;
  /** Delay before restarting the informer after an error (default 2000 ms). */
  readonly retryDelayMs?: number;
  /** Told once per failure of the informer (message only). */
  readonly onError?: (message: string) => void;
}

export type PodLabels = Readonly<Record<string, string>>;

export interface PodLabelCache {
  /** The pod's labels as record labels (`kubernetes_labels_app`), undefined when not known. */
  labelsFor(namespace: string, pod: string): PodLabels | undefined;
  /** Starts the informer; resolves once the first list has arrived (or `stop()`). */
  start(onError?: (message: string) => void): Promise<void>;
  stop(): Promise<void>;
  /** Pods known. */
  readonly size: number;
}

/** A pod's Kubernetes labels as record labels: `app.kubernetes.io/name` → `kubernetes_labels_app_kubernetes_io_name`. */
export function podRecordLabels(labels: Readonly<Record<string, string>> | undefined): PodLabels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) out[POD_LABEL_PREFIX + safeName(k)] = v;
  return out;
}

/** One line: `list: HTTP 403: <the Status message>`, `watch: HTTP 500`, or the error's first line. */
function errorText(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  if (typeof e.code === 'number') {
    // An ApiException of the list call; its body is the Status as JSON text.
    let message = '';
    try {
      const status: unknown = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      const m = (status as { message?: unknown } | null)?.message;
      if (typeof m === 'string') message = `: ${m}`;
    } catch {
      // not JSON: the code alone
    }
    return `list: HTTP ${e.code}${message}`;
  }
  if (typeof e.statusCode === 'number') return `watch: HTTP ${e.statusCode}`;
  return String(typeof e.message === 'string' ? e.message : err).split('\n')[0]!;
}

function sameLabels(a: PodLabels, b: PodLabels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function loadConfig(opts: PodLabelCacheOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else if (opts.inCluster) kc.loadFromCluster();
  else throw new Error('pod labels: needs a kubeconfig or the in-cluster configuration');
  if (!kc.getCurrentCluster()) throw new Error('pod labels: the kubeconfig names no current cluster');
  return kc;
}

export function createPodLabelCache(opts: PodLabelCacheOptions): PodLabelCache {
  const kc = loadConfig(opts);
  const api = kc.makeApiClient(CoreV1Api);
  const fieldSelector = opts.node !== undefined ? `spec.nodeName=${opts.node}` : undefined;
  const retryDelay = opts.retryDelayMs ?? 2000;
  const byPod = new Map<string, PodLabels>();
  const key = (ns: string, name: string) => `${ns}/${name}`;

  const informer = new ListWatch<V1Pod>(
    '/api/v1/pods',
    new Watch(kc),
    () => api.listPodForAllNamespaces(fieldSelector !== undefined ? { fieldSelector } : {}),
    false,
    undefined,
    fieldSelector,
  );
  const put = (pod: V1Pod) => {
    const ns = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (ns === undefined || name === undefined) return;
    const labels = podRecordLabels(pod.metadata?.labels);
    const k = key(ns, name);
    const prev = byPod.get(k);
    if (prev === undefined || !sameLabels(prev, labels)) byPod.set(k, labels);
  };
  informer.on('add', put);
  informer.on('update', put);
  informer.on('delete', (pod) => {
    const ns = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (ns !== undefined && name !== undefined) byPod.delete(key(ns, name));
  });

  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let synced: (() => void) | undefined;
  const firstList = new Promise<void>((resolve) => {
    synced = resolve;
  });
  let onError = opts.onError;
  const failed = (err: unknown) => {
    if (stopped || retry !== undefined) return;
    onError?.(`pod labels: ${errorText(err)}; retrying`);
    retry = setTimeout(() => {
      retry = undefined;
      if (!stopped) void run();
    }, retryDelay);
  };
  informer.on('error', failed);
  /** start() lists (unless resuming a watch) and opens the watch; a failed list is an `error`. */
  const run = async () => {
    try {
      await informer.start();
    } catch (err) {
      failed(err);
      return;
    }
    if (informer.latestResourceVersion() !== '') synced?.();
  };

  return {
    labelsFor: (namespace, pod) => byPod.get(key(namespace, pod)),
    async start(report) {
      if (report) onError = report;
      stopped = false;
      void run();
      await firstList;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      synced?.();
      await informer.stop();
    },
    get size() {
      return byPod.size;
    },
  };
}

/**
 * `source` with `cache` running alongside it: the informer starts with the source, the source
 * begins reading once the first list is in (or after `waitMs`, so an unreachable API server
 * delays no log), and the informer stops when the source does.
 */
export function withPodLabels(source: Source, cache: PodLabelCache, waitMs = 10_000): Source {
  return {
    name: source.name,
    async run(ctx: SourceContext): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const report = (message: string) => ctx.problem({ reason: 'pod_labels', message });
      await Promise.race([cache.start(report), waited]);
      clearTimeout(timer);
      try {
        if (!ctx.signal.aborted) await source.run(ctx);
      } finally {
        await cache.stop();
      }
    },
  };
}
