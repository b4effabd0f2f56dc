/**
 * @module The cluster's API server as a source of live pod logs (`kjournal serve --kubeconfig`):
 * `GET /api/v1/namespaces/{ns}/pods/{pod}` for the pod's containers, node and labels (cached
 * briefly), and `GET .../pods/{pod}/log?container=C&timestamps=true&sinceTime=RFC3339` for its log,
 * each line `<RFC 3339 time with nanoseconds> <line>` as the kubelet writes it. The kubeconfig is
 * read with kjournal's own reader: bearer token (or token file), basic auth, client certificates,
 * CA, insecure-skip-tls-verify and exec plugins (token renewed once on a 401).
 */
import { ClusterClient, type ClusterReply } from '../../cluster/cluster.js';
import { type KubeconfigConnection, loadKubeconfig, selectContext } from '../../cluster/kubeconfig.js';
import { formatRfc3339Nano, NS_PER_SECOND, parseRfc3339Nano } from '../../model/time.js';

/** What kjournal needs of a pod. */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly containers: readonly string[];
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One line of `pods/log?timestamps=true`. */
export interface LiveLine {
  readonly timestamp: bigint;
  readonly line: string;
}

/** Live logs of pods; `PodLogSource` is the real one, tests may pass their own. */
export interface LiveLogSource {
  pod(namespace: string, name: string): Promise<PodInfo>;
  /** The container's log since `sinceNs` (whole seconds: the API's `sinceTime` has no fraction). */
  log(namespace: string, pod: string, container: string, sinceNs: bigint): Promise<LiveLine[]>;
}

/** A failed call to the cluster, with the HTTP status when there was an answer. */
export class ClusterError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClusterError';
  }
}

export interface PodLogSourceOptions {
  /** Each call's time limit (default 5 s). */
  readonly timeoutMs?: number;
  /** How long a pod lookup is reused (default 10 s). */
  readonly podCacheMs?: number;
  /** The most log bytes read per container (`limitBytes`, default 8 MiB). */
  readonly limitBytes?: number;
  readonly now?: () => number;
}

/** Parses `pods/log?timestamps=true` output; lines without a valid time are skipped. */
export function parseTimestampedLog(text: string): LiveLine[] {
  const out: LiveLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const sp = raw.indexOf(' ');
    const ts = parseRfc3339Nano(sp < 0 ? raw : raw.slice(0, sp));
    if (ts === undefined) continue;
    out.push({ timestamp: ts, line: sp < 0 ? '' : raw.slice(sp + 1).replace(/\r$/, '') });
  }
  return out;
}

/** `sinceTime` for a nanosecond time: RFC 3339 in whole seconds, rounded down. */
export function sinceTimeParam(ns: bigint): string {
  const floor = ns - (((ns % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND);
  return formatRfc3339Nano(floor);
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class PodLogSource implements LiveLogSource {
  readonly #client: ClusterClient;
  readonly #cacheMs: number;
  readonly #limitBytes: number;
  readonly #now: () => number;
  readonly #pods = new Map<string, { info: PodInfo; expires: number }>();

  constructor(conn: KubeconfigConnection, opts: PodLogSourceOptions = {}) {
    this.#cacheMs = opts.podCacheMs ?? 10_000;
    this.#limitBytes = opts.limitBytes ?? 8 << 20;
    this.#now = opts.now ?? Date.now;
    // An answer may exceed limitBytes by its last line and the headers' worth.
    this.#client = new ClusterClient(conn, {
      timeoutMs: opts.timeoutMs ?? 5000,
      maxBytes: this.#limitBytes + (1 << 20),
      now: this.#now,
    });
  }

  /** The server the source reads from (for messages). */
  get server(): string {
    return this.#client.server;
  }

  async pod(namespace: string, name: string): Promise<PodInfo> {
    const key = `${namespace}/${name}`;
    const now = this.#now();
    const hit = this.#pods.get(key);
    if (hit && hit.expires > now) return hit.info;
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const body = await this.#get(path);
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new ClusterError(`pod ${key}: the answer is not JSON`);
    }
    const spec = isObj(doc) && isObj(doc.spec) ? doc.spec : {};
    const meta = isObj(doc) && isObj(doc.metadata) ? doc.metadata : {};
    const containers = Array.isArray(spec.containers)
      ? spec.containers.flatMap((c) => (isObj(c) && typeof c.name === 'string' ? [c.name] : []))
      : [];
    const labels: Record<string, string> = {};
    if (isObj(meta.labels))
      for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
    const info: PodInfo = {
      namespace,
      name,
      containers,
      node: typeof spec.nodeName === 'string' ? spec.nodeName : '',
      labels,
    };
    if (this.#pods.size > 1000) this.#pods.clear();
    this.#pods.set(key, { info, expires: now + this.#cacheMs });
    return info;
  }

  async log(namespace: string, pod: string, container: string, sinceNs: bigint): Promise<LiveLine[]> {
    const q = new URLSearchParams({
      container,
      timestamps: 'true',
      sinceTime: sinceTimeParam(sinceNs),
      limitBytes: String(this.#limitBytes),
    });
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`;
    return parseTimestampedLog(await this.#get(path));
  }

  async #get(path: string): Promise<string> {
    let res: ClusterReply;
    try {
      res = await this.#client.request('GET', path);
    } catch (err) {
      throw new ClusterError((err as Error).message);
    }
    if (res.status < 200 || res.status > 299) {
      let why = res.body.slice(0, 200).replace(/\s+/g, ' ');
      try {
        const s: unknown = JSON.parse(res.body);
        if (isObj(s) && typeof s.message === 'string') why = s.message;
      } catch {
        // not a Status: the text itself
      }
      throw new ClusterError(`${this.#client.server} answered HTTP ${res.status}: ${why}`, res.status);
    }
    return res.body;
  }
}

/** Reads `--kubeconfig` (and `--context`) into a source; a bad kubeconfig is a KubeconfigError (the CLI exits 1). */
export function loadPodLogSource(
  kubeconfig: string,
  context?: string,
  opts: PodLogSourceOptions = {},
): PodLogSource {
  const conn = selectContext(loadKubeconfig([kubeconfig], true), context);
  return new PodLogSource(conn, opts);
}
