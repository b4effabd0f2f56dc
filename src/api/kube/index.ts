/**
 * @module The Kubernetes-compatible API `core.kjournal/v1alpha1` on the server's one port:
 * discovery (plain and aggregated), OpenAPI v2/v3, health endpoints, and get, list (paged with
 * validated continue tokens) and watch of ContainerLogs, Events, AuditEvents and Logs, as JSON
 * objects or server-side Tables. Every error is a Kubernetes Status.
 */

import type { TailHub } from '../../journal/tail-hub.js';
import { type DirectOptions, warningHeader } from '../../kube/direct/fallback.js';
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
import { openApiV2, openApiV3Group, openApiV3Root } from '../../kube/openapi.js';
import type { KubeReads } from '../../kube/reads.js';
import { GROUP_VERSION, type KubeResource, resourceByName } from '../../kube/resources.js';
import { compileSelection } from '../../kube/selectors.js';
import { KubeError, kubeBadRequest, kubeNotFound } from '../../kube/status.js';
import { type IncludeObject, toTable, wantsTable } from '../../kube/tables.js';
import type { QueryAdmission } from '../../query/admission.js';
import { admitted } from '../http/admit.js';
import { type Handler, json, type Reply, type RequestContext, type Router, text } from '../http/router.js';
import { tenantOf } from '../http/tenant.js';
import { kubeStatusReply } from './errors.js';
import { watchReply } from './watch.js';

export { kubeStatusReply } from './errors.js';

export interface KubeApiOptions {
  /** The reads on the store (src/kube/reads.ts). */
  readonly reads: KubeReads;
  readonly tailHub: TailHub;
  /** The server's version, for /version and the OpenAPI documents. */
  readonly version: string;
  /** Largest page a list returns; larger or absent limits are cut to it (with a continue token). */
  readonly maxEntriesLimit: number;
  /**
   * Most items a list without an explicit `limit` returns across its pages: its newest ones, with
   * a Warning (`--kube-list-max-items`, default 5000; 0: no cap). See listCap below.
   */
  readonly listMaxItems?: number;
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

/**
 * The default of `--kube-list-max-items`: Loki's `max_entries_limit_per_query` default (what
 * Grafana and logcli get at most from one query), and a table kubectl prints in about a second
 * (kubectl 1.32 on 2 cores: 5,000 rows in 1.3 s; the 400,000 rows of a 10-day window took 87 s in
 * pages of 1,000, nothing printed until the end).
 */
export const DEFAULT_KUBE_LIST_MAX_ITEMS = 5000;

/**
 * The page size kubectl's `--chunk-size` and client-go's pager default to. kubectl always sends a
 * `limit` (this one unless told otherwise), so a list whose first request asks for 500 is taken as
 * one that gave no limit: it is capped. Any other `limit` is the client's choice and pages through
 * everything.
 */
const DEFAULT_CLIENT_PAGE = '500';

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

/** Whether a list's first request leaves its size to the server: no limit, 0, or kubectl's default. */
function defaultLimit(text: string | null): boolean {
  return text === null || text === '' || text === '0' || text === DEFAULT_CLIENT_PAGE;
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

/** A 200 with the object; warnings become one `Warning` header (comma-separated, RFC 7234). */
function objectReply(value: unknown, ...warnings: (string | undefined)[]): Reply {
  const texts = warnings.filter((w): w is string => w !== undefined);
  const headers =
    texts.length === 0 ? JSON_CT : { ...JSON_CT, warning: texts.map((w) => warningHeader(w)).join(', ') };
  return { status: 200, headers, body: JSON.stringify(value) };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * `GET /api/v1/namespaces/NAME`, which kubectl asks after a namespaced get answered NotFound: it
 * reports the namespace's NotFound instead of the object's when that one is NotFound too
 * (cli-runtime's resource.Info.Get). Through API aggregation kube-apiserver answers it; a server
 * reached directly answers here. kjournal keeps no Namespace objects: a namespace is a label of
 * its records, and a list in any valid namespace succeeds (empty when nothing is stored there), as
 * in an existing namespace. So every valid name is a namespace, answered with its name only, and
 * kubectl prints the object's own NotFound (`containerlogs.core.kjournal "x" not found`); a name
 * no namespace can have is NotFound, as kube-apiserver words it. The store is not consulted: which
 * namespaces hold records is for the resources' authorization to reveal, not for this path.
 */
function namespaceReply(name: string): Reply {
  if (!DNS1123_LABEL.test(name)) {
    throw new KubeError(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
  }
  return json(200, {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name,
      annotations: {
        'core.kjournal/namespace':
          'kjournal keeps no Namespace objects: a namespace is a label of its records, and every valid name is one',
      },
    },
  });
}

/**
 * The answer for a path no route serves under `/api/v1` or `/apis/`: kube-apiserver's 404 Status
 * for a path it does not serve, rather than plain text (kubectl reads both as NotFound, but only
 * the Status says it in the API's words). Undefined for other paths.
 */
export function unservedKubePath(path: string): Reply | undefined {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p !== '/api/v1' && !p.startsWith('/api/v1/') && !p.startsWith('/apis/')) return undefined;
  return kubeStatusReply(
    new KubeError(404, 'NotFound', 'the server could not find the requested resource', {}),
  );
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
  get('/api/v1/namespaces/{name}', async (ctx) => namespaceReply(ctx.pathParams?.name ?? ''));
  router.notFound(unservedKubePath);
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
          reads: opts.reads,
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
    const limitText = ctx.params.get('limit');
    const token = ctx.params.get('continue') ?? undefined;
    // A list's first request without a limit of its own is capped (src/kube/list.ts): its newest items.
    const first = token === undefined || token === '';
    const cap = first ? (opts.listMaxItems ?? DEFAULT_KUBE_LIST_MAX_ITEMS) : 0;
    const capped = cap > 0 && defaultLimit(limitText);
    let pageSize = parseLimit(limitText, opts.maxEntriesLimit);
    if (capped) pageSize = Math.min(pageSize, cap);
    const page = await opts.reads.list({
      tenant,
      resource,
      namespace,
      labelSelector,
      fieldSelector,
      selection,
      continueToken: token,
      pageSize,
      cap: capped ? cap : 0,
      signal: ctx.signal ?? AbortSignal.timeout(opts.queryTimeoutMs),
      ...(opts.direct ? { direct: opts.direct } : {}),
    });
    const { objects, metadata, warnings } = page;
    if (table) return objectReply(toTable(resource, objects, metadata, include), ...warnings);
    return objectReply(
      { kind: resource.listKind, apiVersion: GROUP_VERSION, metadata, items: objects },
      ...warnings,
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
    const found = await opts.reads.get({
      tenant,
      resource,
      namespace,
      name,
      signal: ctx.signal ?? AbortSignal.timeout(opts.queryTimeoutMs),
    });
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
