/**
 * @module The gate in front of every path: who is asking (src/auth), for which tenant, and what can
 * be decided before the request is read. Every request leaves it with an Access (src/auth/access.ts),
 * which the router hands to the handler as `ctx.access`, or with the refusal to send.
 *
 * - Probes (/healthz, /livez, /readyz, /ready) are open, as kube-apiserver leaves them to everyone.
 * - The web page's static files (`/`, `/ui/...`: api/ui/) are open too: they hold no data, and a
 *   browser must load the page before it can ask for a token; every read the page makes is then
 *   authorized as any other client's.
 * - The tenant is `X-Scope-OrgID` (Loki's rules), or `default` without it or with
 *   `--disable-tenant-header` (Loki's `auth_enabled: false`: the header is ignored). A tenant other
 *   than `default` needs `get` (reads) or `create` (writes) on the cluster-scoped resource `tenants`
 *   of `core.kjournal`, named after the tenant; `default` is open to everyone the other rules allow.
 *   The header is then rewritten to the tenant decided (removed for `default`), so that whatever
 *   reads it further on sees that tenant and no other.
 * - Kubernetes resource paths (`core.kjournal`) are authorized here as kube-apiserver authorizes
 *   them: the request's verb, resource, namespace and name, so a user allowed one namespace sees
 *   nothing of another on get, list, watch and tables.
 * - Log data paths (Loki's, LokiStack's, korrel8r's, and both under the group's path for API
 *   aggregation) and the intake (the push, /ingest/audit, /ingest/events, the receivers of
 *   api/http/receiver-paths.ts, and the Elasticsearch API's probes) are decided by their
 *   handlers, which know what the request reads or carries: api/loki/read-access.ts for reads,
 *   auth/writes.ts for writes. A route there that decides nothing answers 500, never data
 *   (src/api/http/dispatch.ts).
 * - Everything else (discovery, OpenAPI, /version, /metrics, Loki's buildinfo) is a non-resource
 *   request, the HTTP method on the path, as kube-apiserver has it: `/metrics` needs `get` on
 *   `/metrics`.
 */
import type { IncomingMessage } from 'node:http';
import {
  ANONYMOUS_USER,
  type Auth,
  AuthenticationError,
  ForbiddenError,
  RequestAccess,
  TENANTS_RESOURCE,
  type UserInfo,
  type Want,
} from '../../auth/index.js';
import { reasonOf, statusObject } from '../../kube/status.js';
import { HttpError } from './errors.js';
import { isElasticsearchProbePath, isElasticsearchRootProbe, isReceiverWritePath } from './receiver-paths.js';
import { decodeSegment, type Reply, trimTrailingSlash } from './router.js';
import { DEFAULT_TENANT, tenantOf } from './tenant.js';

// Splunk's HEC health check needs no token (Splunk answers it to anyone).
const OPEN = new Set(['/healthz', '/livez', '/readyz', '/ready', '/services/collector/health']);
/** The web page's static files (api/ui/static.ts). */
const isUiPath = (path: string): boolean => path === '/' || path === '/ui' || path.startsWith('/ui/');
const KUBE_PREFIXES = ['/api', '/apis', '/openapi', '/version'];
const RESOURCE_PATH =
  /^\/apis\/core\.kjournal\/v1alpha1\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?\/?$/;
/**
 * Prefixes under which log data is served: LokiStack's class paths, and the group's path for API
 * aggregation (`/apis/core.kjournal/v1alpha1[/namespaces/<ns>]/loki/...` and `.../korrel8r/...`).
 */
const LOG_DATA_PREFIXES = [
  /^\/api\/logs\/v1\/(?:application|infrastructure|audit)(?=\/)/,
  /^\/apis\/core\.kjournal\/v1alpha1(?:\/namespaces\/[^/]+)?(?=\/(?:loki|korrel8r|retention)\/)/,
];
/** The receivers' HTTP paths (issue 17: GELF, Splunk HEC) are intake too: their handlers decide. */
const RECEIVER_INTAKE = [
  '/gelf',
  '/services/collector',
  '/services/collector/event',
  '/services/collector/event/1.0',
  '/services/collector/raw',
  '/services/collector/raw/1.0',
  '/services/collector/ack',
];
const INTAKE = new Set(['/ingest/audit', '/ingest/events', ...RECEIVER_INTAKE]);
const TENANT_HEADER = 'x-scope-orgid';

/**
 * For a path of log data outside the Kubernetes resources (Loki's, korrel8r's, under any prefix
 * above), the path after its prefix (`/loki/api/v1/query`, `/api/v1/korrel8r/logs`); else undefined.
 */
function logDataPath(path: string): string | undefined {
  let rest = path;
  for (const prefix of LOG_DATA_PREFIXES) {
    const m = prefix.exec(path);
    if (m) {
      rest = path.slice(m[0].length);
      break;
    }
  }
  // The retention report counts log data too: its handler decides, as the log data handlers do.
  return rest.startsWith('/loki/') ||
    rest.startsWith('/api/v1/korrel8r/') ||
    rest.startsWith('/korrel8r/') ||
    rest === '/api/v1/retention/test' ||
    rest === '/retention/test'
    ? rest
    : undefined;
}

function isKubePath(path: string): boolean {
  return KUBE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`)) && logDataPath(path) === undefined;
}

/** Paths that store what they are sent: writes to their tenant. */
function isWritePath(path: string): boolean {
  return INTAKE.has(path) || isReceiverWritePath(path) || logDataPath(path) === '/loki/api/v1/push';
}

/** Paths whose handler decides, once it knows what the request reads or carries. */
function decidedByHandler(path: string): boolean {
  if (INTAKE.has(path) || isReceiverWritePath(path) || isElasticsearchProbePath(path)) return true;
  const rest = logDataPath(path);
  return rest !== undefined && rest !== '/loki/api/v1/status/buildinfo';
}

/**
 * What a request asks to do that the gate can decide (empty when its handler decides). A path
 * segment that is not valid percent-encoding is kept as it is (the API refuses it).
 */
function requestWants(method: string, path: string, params: URLSearchParams): Want[] {
  if (decidedByHandler(path)) return [];
  const m = RESOURCE_PATH.exec(path);
  if (m && m[2] !== 'namespaces') {
    const [, namespace = '', resource = '', name] = m;
    const watch = params.get('watch');
    const verb =
      method !== 'GET' && method !== 'HEAD'
        ? method.toLowerCase()
        : name !== undefined
          ? 'get'
          : watch === 'true' || watch === '1'
            ? 'watch'
            : 'list';
    return [
      {
        verb,
        resource,
        namespace: decodeSegment(namespace),
        ...(name !== undefined ? { name: decodeSegment(name) } : {}),
      },
    ];
  }
  return [{ verb: method.toLowerCase(), path }];
}

function refusal(path: string, code: number, message: string): Reply {
  // HEC's clients read HEC's JSON (code 2 "Token is required", 4 "Invalid token"), whatever the status.
  if (path.startsWith('/services/collector')) {
    const hec = code === 401 ? { text: 'Invalid token', code: 4 } : { text: message, code: 4 };
    return { status: code, headers: { 'content-type': 'application/json' }, body: JSON.stringify(hec) };
  }
  if (isKubePath(path)) {
    return {
      status: code,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(statusObject(code, reasonOf(code), message)),
    };
  }
  return { status: code, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}

export interface GateOptions {
  /** Authentication and authorization; without it everyone is admitted as system:anonymous. */
  readonly auth?: Auth;
  /** false: `X-Scope-OrgID` is ignored and every request is the default tenant. */
  readonly tenantHeader: boolean;
  /** Where the reason a credential was refused goes (never to the client). */
  readonly log: (line: string) => void;
}

export type GateResult =
  | { readonly access: RequestAccess; readonly refused?: undefined }
  | { readonly refused: Reply; readonly access?: undefined };

/**
 * Authenticates a request, decides its tenant, and authorizes what can be authorized before the
 * request is read. A refusal is 401 or 403 (400 for a malformed tenant): a Kubernetes Status on
 * Kubernetes paths, plain text elsewhere. Rejects with AuthorizationError when the authorizer cannot
 * be asked.
 */
export async function gateRequest(req: IncomingMessage, url: URL, opts: GateOptions): Promise<GateResult> {
  const path = trimTrailingSlash(url.pathname);
  const auth = opts.auth;
  const authorize = auth
    ? (a: Parameters<Auth['authorize']>[0]) => auth.authorize(a)
    : async () => 'allow' as const;
  // `GET /` of an Elasticsearch client is its probe, authenticated as the other receivers' paths.
  const esRoot = (path === '' || path === '/') && isElasticsearchRootProbe(req);
  if (OPEN.has(path) || (isUiPath(path) && !esRoot)) {
    const access = new RequestAccess(ANONYMOUS_USER, DEFAULT_TENANT, path, authorize);
    access.markDecided();
    return { access };
  }
  let user: UserInfo = ANONYMOUS_USER;
  if (auth) {
    try {
      user = await auth.authenticate(req);
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      opts.log(`auth: ${req.socket.remoteAddress ?? '?'} ${req.method} ${path}: ${err.message}`);
      return { refused: refusal(path, 401, 'Unauthorized') };
    }
  }
  let tenant = DEFAULT_TENANT;
  if (opts.tenantHeader) {
    try {
      tenant = tenantOf(req.headers[TENANT_HEADER]);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return { refused: refusal(path, err.status, err.message) };
    }
  }
  if (tenant === DEFAULT_TENANT) delete req.headers[TENANT_HEADER];
  else req.headers[TENANT_HEADER] = tenant;
  const wants = requestWants(req.method ?? 'GET', path, url.searchParams);
  const access = new RequestAccess(user, tenant, path, authorize);
  try {
    if (tenant !== DEFAULT_TENANT) {
      // Its own Access: the tenant alone does not decide the request (see `decided`).
      const verb = isWritePath(path) ? 'create' : 'get';
      await new RequestAccess(user, tenant, path, authorize).require([
        { verb, resource: TENANTS_RESOURCE, name: tenant },
      ]);
    }
    if (wants.length > 0) await access.require(wants);
  } catch (err) {
    if (!(err instanceof ForbiddenError)) throw err;
    return { refused: refusal(path, 403, err.message) };
  }
  return { access };
}
