/**
 * @module The kube API's reads: list (selectors → scan → objects → pages → continue tokens, with
 * the cap of a list that leaves its size to the server and the direct fallback for one pod) and get
 * (one object by its name). resourceVersions are the store's sequence numbers. The HTTP side
 * (src/api/kube/) parses the request and writes the reply.
 */
import { formatRfc3339Nano, nowNs } from '../model/time.js';
import { scan } from '../query/scan.js';
import type { EntryCursor, Store } from '../store/store.js';
import { decodeContinue, encodeContinue, queryFingerprint } from './continue.js';
import type { ListItem } from './direct/fallback.js';
import {
  type DirectOptions,
  type DirectResult,
  directItems,
  directTarget,
  mergeItems,
} from './direct/fallback.js';
import { type KubeObject, parseObjectName, toObject } from './objects.js';
import type { KubeResource } from './resources.js';
import type { CompiledSelection } from './selectors.js';

/** Entries read from the store per round while a page fills. */
const SCAN_BATCH = 1000;

/** The store's newest sequence number: the resourceVersion of a list or a bookmark now. */
export function currentResourceVersion(store: Store): bigint {
  return store.lastSeq();
}

/** What a list reads: one resource of one tenant, its selection, in [start, end). */
interface ScanScope {
  readonly store: Store;
  readonly tenant: string;
  readonly resource: KubeResource;
  readonly selection: CompiledSelection;
  readonly start: bigint;
  readonly end: bigint;
  readonly signal: AbortSignal;
  /**
   * The list's resourceVersion: only entries with a sequence number up to it are items. A list is
   * a snapshot at its resourceVersion, as kube-apiserver's is at an etcd revision, so that a watch
   * from it (which replays the entries above it) repeats none of the list's items. A store shared
   * by several servers (ClickHouse) can hold acknowledged entries above lastSeq() for a moment:
   * lastSeq() waits until no other server can still add an entry below them.
   */
  readonly throughSeq: bigint;
}

/**
 * The first `want` items that pass the selection, in `direction` order from after `cursor`: the
 * store is read in rounds until enough pass (the exact predicate runs here, after the pushdown).
 */
async function scanItems(
  scope: ScanScope,
  direction: 'forward' | 'backward',
  cursor: EntryCursor | undefined,
  want: number,
): Promise<ListItem[]> {
  const { selection, resource, tenant } = scope;
  const items: ListItem[] = [];
  const found = scan(
    scope.store,
    {
      tenant,
      start: scope.start,
      end: scope.end,
      matchers: selection.matchers,
      hints: selection.hints,
      ...(selection.streamFilter ? { streamFilter: selection.streamFilter } : {}),
      direction,
      limit: want,
      selective: true,
      roundSize: SCAN_BATCH,
      signal: scope.signal,
      ...(cursor ? { after: cursor } : {}),
    },
    (entry): ListItem | undefined => {
      if (entry.seq > scope.throughSeq) return undefined;
      const obj = toObject(resource, tenant, entry);
      if (!selection.matches(obj)) return undefined;
      return { obj, timestamp: entry.timestamp, seq: entry.seq };
    },
  );
  for await (const batch of found) items.push(...batch);
  return items;
}

/**
 * The cap of a list that leaves its size to the server. kube-apiserver has none (etcd holds few
 * objects of a kind); a log store holds millions, and kubectl builds its whole table before it
 * prints a row: 400,000 lines kept it silent for minutes. Such a list gets its newest `cap` items,
 * in the API's order (oldest first, as every page of a list is), with a Warning that kubectl
 * prints: how many more there are and how to narrow the window or page through all of them.
 * Undefined when the list has no more than `cap` items.
 */
async function listCap(
  scope: ScanScope,
  cap: number,
): Promise<{ items: ListItem[]; warning: string } | undefined> {
  const newest = await scanItems(scope, 'backward', undefined, cap + 1);
  if (newest.length <= cap) return undefined;
  newest.length = cap;
  newest.reverse();
  // What the stream matchers select in the window: the list's size when nothing else narrows it.
  const total = await scope.store.count({
    tenant: scope.tenant,
    start: scope.start,
    end: scope.end,
    matchers: scope.selection.matchers,
    lineFilters: [],
    signal: scope.signal,
  });
  const name = scope.resource.name;
  const oldest = formatRfc3339Nano(newest[0]!.timestamp);
  const most = Math.max(total, cap + 1);
  const size = scope.selection.countable ? `${most} ${name}` : `more than ${cap} ${name} (up to ${most})`;
  return {
    items: newest,
    warning:
      `this list has ${size}; showing the newest ${cap}, since ${oldest} (the server's --kube-list-max-items). ` +
      'Narrow it with --field-selector metadata.creationTimestamp>=TIME (or <=TIME, -l, other fields), ' +
      "or page through all of it with --chunk-size=N (N other than kubectl's default 500) or with limit and continue",
  };
}

export interface ListRequest {
  readonly tenant: string;
  readonly resource: KubeResource;
  /** The path's namespace, if any. */
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly selection: CompiledSelection;
  /** The `continue` token of a page after the first. */
  readonly continueToken: string | undefined;
  /** Most items of this page. */
  readonly pageSize: number;
  /** A first page that left its size to the server gets at most its newest `cap` items (0: none). */
  readonly cap: number;
  readonly signal: AbortSignal;
  /** Live pod logs from the cluster for lists of one pod the store is behind on. */
  readonly direct?: DirectOptions;
}

export interface ListPage {
  readonly objects: KubeObject[];
  readonly metadata: { readonly resourceVersion: string; readonly continue?: string };
  /** Warnings for the reply (the cap, a failed live read). */
  readonly warnings: (string | undefined)[];
}

/** One page of a list, with the continue token of the next when there is more. */
export async function listObjects(store: Store, req: ListRequest): Promise<ListPage> {
  const { tenant, resource, namespace, selection, signal } = req;
  const fingerprint = queryFingerprint([
    tenant,
    resource.name,
    namespace,
    req.labelSelector,
    req.fieldSelector,
  ]);
  const token = req.continueToken;
  let start = selection.start;
  let end = selection.end;
  let after: { timestamp: bigint; seq: bigint } | undefined;
  let resourceVersion: string;
  if (token !== undefined && token !== '') {
    const st = decodeContinue(token, fingerprint);
    start = st.start;
    end = st.end;
    after = { timestamp: st.afterTimestamp, seq: st.afterSeq };
    resourceVersion = st.resourceVersion;
  } else {
    resourceVersion = String(currentResourceVersion(store));
  }
  const pageSize = req.pageSize;
  const scope: ScanScope = {
    store,
    tenant,
    resource,
    selection,
    start,
    end,
    signal,
    throughSeq: BigInt(resourceVersion),
  };
  let items = await scanItems(scope, 'forward', after, pageSize + 1);
  let capWarning: string | undefined;
  if (req.cap > 0 && items.length > pageSize) {
    const newest = await listCap(scope, req.cap);
    if (newest) {
      items = newest.items.slice(0, pageSize + 1);
      capWarning = newest.warning;
    }
  }
  // Live records of one pod the store is behind on (the rules are in src/kube/direct/fallback.ts).
  const target = req.direct ? directTarget(resource, namespace, req.fieldSelector) : undefined;
  let live: DirectResult | undefined;
  if (req.direct && target) {
    live = await directItems(req.direct, {
      store,
      tenant,
      resource,
      target,
      selection,
      start,
      end,
      ...(after ? { after } : {}),
      signal,
      now: nowNs(),
    });
    if (live.items.length > 0) items = mergeItems(items, live.items);
  }
  let next: string | undefined;
  if (items.length > pageSize) {
    items.length = pageSize;
    const lastItem = items[pageSize - 1];
    if (lastItem) {
      next = encodeContinue({
        query: fingerprint,
        start,
        end,
        afterTimestamp: lastItem.timestamp,
        afterSeq: lastItem.seq,
        resourceVersion,
      });
    }
  }
  return {
    objects: items.map((i) => i.obj),
    metadata: { resourceVersion, ...(next ? { continue: next } : {}) },
    warnings: [capWarning, live?.warning],
  };
}

export interface GetRequest {
  readonly tenant: string;
  readonly resource: KubeResource;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly signal: AbortSignal;
}

/** The object of that name (its time and sequence number are in it), or undefined. */
export async function getObject(store: Store, req: GetRequest): Promise<KubeObject | undefined> {
  const { tenant, resource, namespace, name } = req;
  const id = parseObjectName(name);
  if (!id) return undefined;
  let found: KubeObject | undefined;
  for await (const batch of store.entries({
    tenant,
    start: id.timestamp,
    end: id.timestamp + 1n,
    matchers: [{ name: 'kind', op: '=', value: resource.storeKind }],
    lineFilters: [],
    direction: 'forward',
    signal: req.signal,
  })) {
    for (const entry of batch) {
      if (entry.seq !== id.seq) continue;
      const obj = toObject(resource, tenant, entry);
      if (obj.metadata.name === name && (!resource.namespaced || obj.metadata.namespace === namespace))
        found = obj;
    }
  }
  return found;
}
