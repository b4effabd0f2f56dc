/**
 * @module Direct fallback for `containerlogs` lists: when the store is behind for one pod, the live
 * pod log from the cluster's API server fills the gap.
 *
 * Rules (kept deliberately simple and honest):
 * - Which requests: a `containerlogs` list (not get, not watch) in one namespace (the path's, or
 *   `metadata.namespace=`) whose field selector names one pod with `pod=X` (optionally one container
 *   with `container=C`). Nothing else ever calls the cluster.
 * - When: the newest stored record of that pod (of the named container, when there is one) within
 *   the request's window is older than min(window end, now) minus `freshNs` (default 1 minute), or
 *   there is none. Only then is the pod looked up (cached briefly by the source), and then, per
 *   container, the log is read since max(newest stored record of that container, window start).
 * - Which live lines: inside the window; strictly after the container's newest stored timestamp,
 *   or at that very nanosecond when no stored record there has the same line (no duplicates).
 * - What they look like: ContainerLog objects like stored ones (pod labels from the pod object, node
 *   from its spec; `stream` is empty: the log API does not say), with the annotation
 *   `core.kjournal/stored: "false"` (stored records never carry it), the name
 *   `<pod>.<timestamp ns>.live-<k>` (no stored name looks like it, so get finds none),
 *   resourceVersion `live-<timestamp ns>-<k>` (not a sequence number: a watch refuses it).
 *   They pass the same label and field selector evaluation as stored records.
 * - Order and paging: live records sort by time with stored ones; within one nanosecond after the
 *   stored ones, as if their sequence numbers were 2^62 + k (within the store's
 *   int64 sequence numbers, far above any it assigns) (k: their rank among live records of that
 *   nanosecond, by container then log order). Continue tokens carry that position like any other,
 *   and every page re-reads the live log, so a page shows the pod log as it is when it is served.
 * - Failures (pod gone, 403, 500, unreachable, timeout) never fail the list: the stored records are
 *   returned, one line is logged and a `Warning: 299 - "..."` header says so (kubectl prints it).
 */
import { formatRfc3339Nano } from '../../model/time.js';
import type { EntryCursor, Store } from '../../store/store.js';
import { defaultLogger } from '../../util/log.js';
import {
  containerLogObject,
  formatSeconds,
  type KubeObject,
  namePrefix,
  payloadOf,
  stableUid,
  TIMESTAMP_ANNOTATION,
} from '../objects.js';
import { GROUP_VERSION, type KubeResource } from '../resources.js';
import { type CompiledSelection, parseFieldSelector } from '../selectors.js';
import type { LiveLine, LiveLogSource, PodInfo } from './pod-log-source.js';

/** The annotation that marks records read live from the cluster and not (yet) stored. */
export const STORED_ANNOTATION = 'core.kjournal/stored';
/** Live records order after stored ones of the same nanosecond: sequence keys from here up. */
export const LIVE_SEQ_BASE = 2n ** 62n;
/** Stored records newer than this before the window's end (or now) count as up to date. */
export const DEFAULT_FRESH_NS = 60n * 1_000_000_000n;

export interface DirectOptions {
  readonly source: LiveLogSource;
  /** See DEFAULT_FRESH_NS. */
  readonly freshNs?: bigint;
  /** Where the one line per failed live read goes (stderr by default). */
  readonly log?: (line: string) => void;
}

/** A list item with its position in the list's order. */
export interface ListItem {
  readonly obj: KubeObject;
  readonly timestamp: bigint;
  readonly seq: bigint;
}

export interface DirectTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
}

/** The pod (and container) a list names, when it qualifies for the fallback. */
export function directTarget(
  resource: KubeResource,
  namespace: string | undefined,
  fieldSelector: string | undefined,
): DirectTarget | undefined {
  if (resource.name !== 'containerlogs' || fieldSelector === undefined) return undefined;
  let ns = namespace;
  let pod: string | undefined;
  let container: string | undefined;
  for (const f of parseFieldSelector(fieldSelector)) {
    if (f.op !== '=' || f.value === '') continue;
    if (f.field === 'pod') pod = f.value;
    else if (f.field === 'container') container = f.value;
    else if (f.field === 'metadata.namespace' && ns === undefined) ns = f.value;
  }
  if (ns === undefined || pod === undefined) return undefined;
  return { namespace: ns, pod, ...(container !== undefined ? { container } : {}) };
}

export interface DirectRequest {
  readonly store: Store;
  readonly tenant: string;
  readonly resource: KubeResource;
  readonly target: DirectTarget;
  readonly selection: CompiledSelection;
  readonly start: bigint;
  readonly end: bigint;
  readonly after?: EntryCursor;
  readonly signal: AbortSignal;
  readonly now: bigint;
}

export interface DirectResult {
  /** Live items after the cursor that pass the selection, in list order. */
  readonly items: ListItem[];
  /** Why the live read failed, for a Warning header. */
  readonly warning?: string;
  /** Whether the cluster was asked at all. */
  readonly asked: boolean;
}

const reEscape = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** The newest stored record of the pod (and container) in [start, end), and its lines at that time. */
async function newestStored(
  req: DirectRequest,
  container: string | undefined,
): Promise<{ timestamp: bigint; lines: Set<string> } | undefined> {
  const { target } = req;
  const matchers = [...req.selection.matchers];
  if (container !== undefined)
    matchers.push({ name: 'container', op: '=~', value: `(?:${reEscape(container)})?` });
  let found: { timestamp: bigint; lines: Set<string> } | undefined;
  for await (const batch of req.store.entries({
    tenant: req.tenant,
    start: req.start,
    end: req.end,
    matchers,
    lineFilters: [],
    direction: 'backward',
    limit: 500,
    signal: req.signal,
  })) {
    for (const entry of batch) {
      if (found && entry.timestamp < found.timestamp) return found;
      const obj = containerLogObject(req.tenant, entry);
      if (
        obj.metadata.namespace !== target.namespace ||
        obj.pod !== target.pod ||
        (container !== undefined && obj.container !== container)
      )
        continue;
      found ??= { timestamp: entry.timestamp, lines: new Set() };
      found.lines.add(entry.body);
    }
  }
  return found;
}

function liveObject(tenant: string, pod: PodInfo, container: string, line: LiveLine, k: number): KubeObject {
  const ts = line.timestamp;
  const metadata: KubeObject['metadata'] = {
    name: `${namePrefix(pod.name, 'containerlog')}.${ts}.live-${k}`,
    uid: stableUid(`${tenant}/live/${pod.namespace}/${pod.name}/${container}`, ts, BigInt(k)),
    resourceVersion: `live-${ts}-${k}`,
    creationTimestamp: formatSeconds(ts),
    annotations: { [TIMESTAMP_ANNOTATION]: formatRfc3339Nano(ts), [STORED_ANNOTATION]: 'false' },
    namespace: pod.namespace,
  };
  if (Object.keys(pod.labels).length > 0) metadata.labels = { ...pod.labels };
  return {
    apiVersion: GROUP_VERSION,
    kind: 'ContainerLog',
    metadata,
    pod: pod.name,
    container,
    node: pod.node,
    stream: '',
    payload: payloadOf(line.line),
  };
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The live records a list gets (none when the store is up to date for the pod). */
export async function directItems(opts: DirectOptions, req: DirectRequest): Promise<DirectResult> {
  const { target } = req;
  const fresh = opts.freshNs ?? DEFAULT_FRESH_NS;
  let horizon = req.end;
  if (req.now < horizon) horizon = req.now;
  const newestOfPod = await newestStored(req, target.container);
  if (newestOfPod !== undefined && newestOfPod.timestamp >= horizon - fresh)
    return { items: [], asked: false };
  const where = `${target.namespace}/${target.pod}`;
  const failures: string[] = [];
  let pod: PodInfo;
  try {
    pod = await opts.source.pod(target.namespace, target.pod);
  } catch (err) {
    failures.push(`pod ${where}: ${errText(err)}`);
    return finish(opts, [], failures);
  }
  const containers = target.container !== undefined ? [target.container] : pod.containers;
  const lines: { container: string; line: LiveLine }[] = [];
  for (const container of containers) {
    const newest = target.container !== undefined ? newestOfPod : await newestStored(req, container);
    const since = newest !== undefined && newest.timestamp > req.start ? newest.timestamp : req.start;
    let got: LiveLine[];
    try {
      got = await opts.source.log(target.namespace, target.pod, container, since);
    } catch (err) {
      failures.push(`log of ${where} container ${container}: ${errText(err)}`);
      continue;
    }
    for (const line of got) {
      if (line.timestamp < req.start || line.timestamp >= req.end) continue;
      if (newest !== undefined) {
        if (line.timestamp < newest.timestamp) continue;
        if (line.timestamp === newest.timestamp && newest.lines.has(line.line)) continue;
      }
      lines.push({ container, line });
    }
  }
  // Stable sort: by time, then container order, then log order.
  lines.sort((a, b) =>
    a.line.timestamp < b.line.timestamp ? -1 : a.line.timestamp > b.line.timestamp ? 1 : 0,
  );
  const items: ListItem[] = [];
  let k = 0;
  let prev: bigint | undefined;
  for (const { container, line } of lines) {
    k = line.timestamp === prev ? k + 1 : 0;
    prev = line.timestamp;
    const seq = LIVE_SEQ_BASE + BigInt(k);
    if (
      req.after &&
      (line.timestamp < req.after.timestamp ||
        (line.timestamp === req.after.timestamp && seq <= req.after.seq))
    )
      continue;
    const obj = liveObject(req.tenant, pod, container, line, k);
    if (!req.selection.matches(obj)) continue;
    items.push({ obj, timestamp: line.timestamp, seq });
  }
  return finish(opts, items, failures);
}

function finish(opts: DirectOptions, items: ListItem[], failures: string[]): DirectResult {
  if (failures.length === 0) return { items, asked: true };
  const warning = `live pod log unavailable, showing stored records only: ${failures.join('; ')}`;
  (opts.log ?? defaultLogger().line('warn'))(`kjournal: direct fallback: ${warning}`);
  return { items, warning, asked: true };
}

/** Merges two lists in (timestamp, seq) order. */
export function mergeItems(a: readonly ListItem[], b: readonly ListItem[]): ListItem[] {
  const out: ListItem[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (
      y === undefined ||
      (x !== undefined && (x.timestamp < y.timestamp || (x.timestamp === y.timestamp && x.seq <= y.seq)))
    ) {
      out.push(x!);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/** A Warning header value as kube-apiserver writes it (code 299, agent `-`, quoted text). */
export function warningHeader(text: string): string {
  const clean = text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .slice(0, 1000);
  return `299 - "${clean}"`;
}
