/**
 * @module The Kubernetes-compatible API `core.kjournal/v1alpha1` on the server's one port:
 * discovery (plain and aggregated), OpenAPI v2/v3, health endpoints, and get, list (paged with
 * validated continue tokens) and watch of ContainerLogs, Events, AuditEvents and Logs, as JSON
 * objects or server-side Tables. Every error is a Kubernetes Status.
 */

import { decodeContinue, encodeContinue, queryFingerprint } from '../../kube/continue.js';
import {
  type DirectOptions,
  type DirectResult,
  directItems,
  directTarget,
  type ListItem,
  mergeItems,
  warningHeader,
} from '../../kube/direct/fallback.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  aggregatedVersion,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  versionInfo,
} from '../../kube/discovery.js';
import { type KubeObject, parseObjectName, toObject } from '../../kube/objects.js';
import { openApiV2, openApiV3Group, openApiV3Root } from '../../kube/openapi.js';
import { GROUP_VERSION, type KubeResource, resourceByName } from '../../kube/resources.js';
import { compileSelection } from '../../kube/selectors.js';
import { KubeError, kubeBadRequest, kubeNotFound } from '../../kube/status.js';
import { type IncludeObject, toTable, wantsTable } from '../../kube/tables.js';
import { nowNs } from '../../model/time.js';
import type { QueryAdmission } from '../../query/admission.js';
import type { TailHub } from '../../server/tail-hub.js';
import type { Store, StoredEntry } from '../../store/store.js';
import { admitted } from '../http/admit.js';
import { type Handler, json, type Reply, type RequestContext, type Router, text } from '../http/router.js';
import { tenantOf } from '../loki/tenant.js';
import { kubeStatusReply } from './errors.js';
import { watchReply } from './watch.js';

export { kubeStatusReply } from './errors.js';

export interface KubeApiOptions {
  readonly store: Store;
  readonly tailHub: TailHub;
  /** The server's version, for /version and the OpenAPI documents. */
  readonly version: string;
  /** Largest page a list returns; larger or absent limits are cut to it (with a continue token). */
  readonly maxEntriesLimit: number;
  readonly queryTimeoutMs: number;
  /** Default time window of a list and of a watch's resume, in nanoseconds (24 h). */
  readonly listWindowNs?: bigint;
  /** Most entries a resuming watch replays; a version further back is 410 (default 10,000). */
  readonly watchReplayMax?: number;
  /** How often a watch that allows bookmarks gets one (default 30 s). */
  readonly bookmarkIntervalMs?: number;
  /** Whether the server is ready (for /readyz). */
  readonly ready?: () => boolean;
  /** Live pod logs from the cluster for lists of one pod the store is behind on (src/kube/direct). */
  readonly direct?: DirectOptions;
  /** Query admission for get and list (src/query/admission.ts); watches are not held by it. */
  readonly admission?: QueryAdmission;
  /** Bytes an open watch may hold (`--tail-buffer-size`). */
  readonly watchBufferBytes?: number;
  /** Called when a watch is ended for not keeping up (for /metrics). */
  readonly onWatchTooSlow?: () => void;
}

export const DEFAULT_KUBE_LIST_WINDOW_NS = 24n * 3600n * 1_000_000_000n;

/** Entries read from the store per round while a page fills. */
const SCAN_BATCH = 1000;

function resourceOf(name: string, namespaced: boolean | undefined): KubeResource {
  const r = resourceByName(name);
  if (!r || (namespaced === true && !r.namespaced)) {
    throw new KubeError(404, 'NotFound', 'the server could not find the requested resource', {
      kind: name,
      group: 'core.kjournal',
    });
  }
  return r;
}

function includeObjectOf(ctx: RequestContext): IncludeObject {
  const v = ctx.params.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw kubeBadRequest(`invalid includeObject "${v}": want None, Metadata or Object`);
}

function parseLimit(text: string | null, max: number): number {
  if (text === null || text === '' || text === '0') return max;
  if (!/^\d+$/.test(text)) throw kubeBadRequest(`invalid limit "${text}": want a non-negative integer`);
  return Math.min(Number(text), max);
}

function isWatch(ctx: RequestContext): boolean {
  const w = ctx.params.get('watch');
  return w === 'true' || w === '1';
}

const JSON_CT = { 'content-type': 'application/json' };

/** A fixed document's reply, built on its first request and kept: it cannot change while the server runs. */
function once(make: () => Reply): Handler {
  let reply: Reply | undefined;
  return async () => {
    reply ??= make();
    return reply;
  };
}

function objectReply(value: unknown, warning?: string): Reply {
  const headers = warning === undefined ? JSON_CT : { ...JSON_CT, warning: warningHeader(warning) };
  return { status: 200, headers, body: JSON.stringify(value) };
}

/** What the server keeps of the kube API: `close` ends every open watch (at shutdown). */
export interface KubeApi {
  close(): void;
}

export function registerKubeApi(router: Router, opts: KubeApiOptions): KubeApi {
  const window = opts.listWindowNs ?? DEFAULT_KUBE_LIST_WINDOW_NS;
  const watches = new Set<() => void>();
  const onError = (err: unknown) => kubeStatusReply(err);
  const get = (path: string, handler: Handler): void => {
    router.add(['GET'], path, handler, onError);
  };
  const health: Handler = async () => text(200, 'ok');
  get('/healthz', health);
  get('/livez', health);
  get('/readyz', async () => {
    if (opts.ready && !opts.ready()) throw new KubeError(503, 'InternalError', 'not ready: shutting down');
    return text(200, 'ok');
  });
  /** `/api` and `/apis`: aggregated discovery when the client asks for it, else the plain document. */
  const discovery =
    (legacy: boolean, plain: (ctx: RequestContext) => unknown): Handler =>
    async (ctx) => {
      const v = aggregatedVersion(ctx.req.headers.accept);
      if (v)
        return {
          status: 200,
          headers: { 'content-type': aggregatedContentType(v) },
          body: JSON.stringify(aggregatedDiscovery(v, legacy)),
        };
      return json(200, plain(ctx));
    };
  get(
    '/version',
    once(() => json(200, versionInfo(opts.version))),
  );
  get(
    '/api',
    discovery(true, (ctx) => apiVersions(ctx.req.headers.host ?? '127.0.0.1')),
  );
  get(
    '/apis',
    discovery(false, () => apiGroupList()),
  );
  get(
    '/apis/core.kjournal',
    once(() => json(200, apiGroup())),
  );
  get(
    `/apis/${GROUP_VERSION}`,
    once(() => json(200, apiResourceList())),
  );
  get(
    '/openapi/v2',
    once(() => json(200, openApiV2(opts.version))),
  );
  get(
    '/openapi/v3',
    once(() => json(200, openApiV3Root(opts.version))),
  );
  get(
    `/openapi/v3/apis/${GROUP_VERSION}`,
    once(() => json(200, openApiV3Group(opts.version))),
  );

  const list = async (ctx: RequestContext, resource: KubeResource, namespace: string | undefined) => {
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    const labelSelector = ctx.params.get('labelSelector') ?? undefined;
    const fieldSelector = ctx.params.get('fieldSelector') ?? undefined;
    const selection = compileSelection({
      resource,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      ...(fieldSelector !== undefined ? { fieldSelector } : {}),
      window,
    });
    const table = wantsTable(ctx.req.headers.accept);
    const include = includeObjectOf(ctx);
    if (isWatch(ctx)) {
      if (ctx.params.get('sendInitialEvents') === 'true') {
        // A client (client-go's watch-list) falls back to list and watch on this error.
        throw kubeBadRequest(
          "sendInitialEvents is not supported: list, then watch from the list's resourceVersion",
        );
      }
      const timeout = ctx.params.get('timeoutSeconds');
      const rv = ctx.params.get('resourceVersion') ?? undefined;
      return watchReply(
        {
          store: opts.store,
          hub: opts.tailHub,
          replayMax: opts.watchReplayMax ?? 10_000,
          bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 30_000,
          queryTimeoutMs: opts.queryTimeoutMs,
          active: watches,
          ...(opts.watchBufferBytes ? { bufferBytes: opts.watchBufferBytes } : {}),
          ...(opts.admission ? { admission: opts.admission } : {}),
          ...(opts.onWatchTooSlow ? { onTooSlow: opts.onWatchTooSlow } : {}),
        },
        {
          tenant,
          resource,
          selection,
          resourceVersion: rv,
          bookmarks: ctx.params.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: timeout === null || timeout === '' ? undefined : Number(timeout),
          table,
          include,
        },
      );
    }
    const fingerprint = queryFingerprint([tenant, resource.name, namespace, labelSelector, fieldSelector]);
    const token = ctx.params.get('continue');
    let start = selection.start;
    let end = selection.end;
    let after: { timestamp: bigint; seq: bigint } | undefined;
    let resourceVersion: string;
    if (token !== null && token !== '') {
      const st = decodeContinue(token, fingerprint);
      start = st.start;
      end = st.end;
      after = { timestamp: st.afterTimestamp, seq: st.afterSeq };
      resourceVersion = st.resourceVersion;
    } else {
      resourceVersion = String(opts.store.lastSeq?.() ?? 0n);
    }
    const pageSize = parseLimit(ctx.params.get('limit'), opts.maxEntriesLimit);
    const signal = ctx.signal ?? AbortSignal.timeout(opts.queryTimeoutMs);
    let items: ListItem[] = [];
    let cursor = after;
    scan: for (;;) {
      let scanned = 0;
      let last: StoredEntry | undefined;
      for await (const batch of opts.store.entries({
        tenant,
        start,
        end,
        matchers: selection.matchers,
        lineFilters: [],
        hints: selection.hints,
        direction: 'forward',
        limit: SCAN_BATCH,
        signal,
        ...(cursor ? { after: cursor } : {}),
      })) {
        for (const entry of batch) {
          scanned++;
          last = entry;
          const obj = toObject(resource, tenant, entry);
          if (!selection.matches(obj)) continue;
          items.push({ obj, timestamp: entry.timestamp, seq: entry.seq ?? 0n });
          if (items.length > pageSize) break scan;
        }
      }
      if (scanned < SCAN_BATCH || !last) break;
      cursor = { timestamp: last.timestamp, seq: last.seq ?? 0n };
    }
    // Live records of one pod the store is behind on (the rules are in src/kube/direct/fallback.ts).
    const target = opts.direct ? directTarget(resource, namespace, fieldSelector) : undefined;
    let live: DirectResult | undefined;
    if (opts.direct && target) {
      live = await directItems(opts.direct, {
        store: opts.store,
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
    const metadata = { resourceVersion, ...(next ? { continue: next } : {}) };
    const objects = items.map((i) => i.obj);
    if (table) return objectReply(toTable(resource, objects, metadata, include), live?.warning);
    return objectReply(
      { kind: resource.listKind, apiVersion: GROUP_VERSION, metadata, items: objects },
      live?.warning,
    );
  };

  const getOne = async (
    ctx: RequestContext,
    resource: KubeResource,
    namespace: string | undefined,
    name: string,
  ) => {
    if (isWatch(ctx))
      throw kubeBadRequest('watch a single object with a fieldSelector metadata.name=<name> on the list');
    const tenant = tenantOf(ctx.req.headers['x-scope-orgid']);
    if (resource.namespaced && namespace === undefined) throw kubeNotFound(resource.name, name);
    const id = parseObjectName(name);
    if (!id) throw kubeNotFound(resource.name, name);
    let found: KubeObject | undefined;
    for await (const batch of opts.store.entries({
      tenant,
      start: id.timestamp,
      end: id.timestamp + 1n,
      matchers: [{ name: 'kind', op: '=', value: resource.storeKind }],
      lineFilters: [],
      direction: 'forward',
      signal: ctx.signal ?? AbortSignal.timeout(opts.queryTimeoutMs),
    })) {
      for (const entry of batch) {
        if (entry.seq !== id.seq) continue;
        const obj = toObject(resource, tenant, entry);
        if (obj.metadata.name === name && (!resource.namespaced || obj.metadata.namespace === namespace))
          found = obj;
      }
    }
    if (!found) throw kubeNotFound(resource.name, name);
    if (wantsTable(ctx.req.headers.accept)) {
      return objectReply(
        toTable(resource, [found], { resourceVersion: found.metadata.resourceVersion }, includeObjectOf(ctx)),
      );
    }
    return objectReply(found);
  };

  /**
   * Gets and lists wait for query admission; a watch does not (kube-apiserver's max-in-flight
   * filter leaves long-running requests out too): only its replay does, in watch.ts.
   */
  const query = (handler: Handler): Handler => {
    const admission = opts.admission;
    if (!admission) return handler;
    const gated = admitted(admission, opts.queryTimeoutMs, handler);
    return (ctx) => (isWatch(ctx) ? handler(ctx) : gated(ctx));
  };
  const base = `/apis/${GROUP_VERSION}`;
  get(
    `${base}/namespaces/{namespace}/{resource}`,
    query(async (ctx) => {
      const p = ctx.pathParams ?? {};
      return list(ctx, resourceOf(p.resource ?? '', true), p.namespace);
    }),
  );
  get(
    `${base}/namespaces/{namespace}/{resource}/{name}`,
    query(async (ctx) => {
      const p = ctx.pathParams ?? {};
      return getOne(ctx, resourceOf(p.resource ?? '', true), p.namespace, p.name ?? '');
    }),
  );
  get(
    `${base}/{resource}`,
    query(async (ctx) => list(ctx, resourceOf(ctx.pathParams?.resource ?? '', undefined), undefined)),
  );
  get(
    `${base}/{resource}/{name}`,
    query(async (ctx) => {
      const p = ctx.pathParams ?? {};
      return getOne(ctx, resourceOf(p.resource ?? '', undefined), undefined, p.name ?? '');
    }),
  );
  return {
    close() {
      for (const stop of [...watches]) stop();
    },
  };
}
