/**
 * @module The gate in front of every path: who is asking (src/auth), and may they. Kubernetes paths
 * are authorized as kube-apiserver authorizes them: `core.kjournal` resource requests with the
 * request's verb and namespace (so a user allowed one namespace sees nothing of another on get,
 * list, watch and tables), everything else under /api, /apis, /openapi and /version as non-resource
 * requests. The Loki API and korrel8r read across namespaces, so they need `list` on every resource
 * they can return, cluster-wide (`create` for a push); LokiStack's class paths need only the
 * resources of their class. The intake of what Kubernetes sends (`/ingest/audit`, `/ingest/events`)
 * needs `create` on the resource it becomes. Probes (/healthz, /livez, /readyz, /ready) are open, as kube-apiserver
 * leaves them to everyone.
 */
import type { IncomingMessage } from 'node:http';
import { decodeSegment, type Reply, trimTrailingSlash } from '../api/http/router.js';
import {
  type Attributes,
  type Auth,
  AuthenticationError,
  nonResourceAttributes,
  resourceAttributes,
  type UserInfo,
} from '../auth/index.js';
import { reasonOf, statusObject } from '../kube/status.js';

const OPEN = new Set(['/healthz', '/livez', '/readyz', '/ready']);
const KUBE_PREFIXES = ['/api', '/apis', '/openapi', '/version'];
const RESOURCE_PATH =
  /^\/apis\/core\.kjournal\/v1alpha1\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?\/?$/;
const LOKISTACK_PATH = /^\/api\/logs\/v1\/(application|infrastructure|audit)(\/.*)$/;
const ALL_RESOURCES = ['containerlogs', 'events', 'auditevents', 'logs'] as const;
const CLASS_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  application: ['containerlogs', 'events'],
  infrastructure: ['containerlogs', 'events', 'logs'],
  audit: ['auditevents'],
};

/** What Kubernetes posts itself: creating the resource it becomes, cluster-wide. */
const INTAKE: Readonly<Record<string, string>> = {
  '/ingest/audit': 'auditevents',
  '/ingest/events': 'events',
};

/** Log data outside the Kubernetes API: Loki's paths, LokiStack's and korrel8r's. */
function isLogDataPath(path: string): boolean {
  return path.startsWith('/loki/') || path.startsWith('/api/v1/korrel8r/') || LOKISTACK_PATH.test(path);
}

function isKubePath(path: string): boolean {
  return KUBE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`)) && !isLogDataPath(path);
}

/**
 * What a request asks to do, as the authorizer sees it: one or more attribute sets, all required.
 * A path segment that is not valid percent-encoding is kept as it is (the API refuses it).
 */
function requestAttributes(
  user: UserInfo,
  method: string,
  path: string,
  params: URLSearchParams,
): Attributes[] {
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
      resourceAttributes(user, verb, resource, {
        namespace: decodeSegment(namespace),
        ...(name !== undefined ? { name: decodeSegment(name) } : {}),
        path,
      }),
    ];
  }
  const intake = INTAKE[path];
  if (intake) return [resourceAttributes(user, 'create', intake, { namespace: '', path })];
  if (isLogDataPath(path) && !path.endsWith('/status/buildinfo')) {
    const stack = LOKISTACK_PATH.exec(path);
    const rest = stack ? stack[2]! : path;
    const resources = stack ? CLASS_RESOURCES[stack[1]!]! : ALL_RESOURCES;
    const verb = rest.endsWith('/push') ? 'create' : rest.endsWith('/tail') ? 'watch' : 'list';
    return resources.map((r) => resourceAttributes(user, verb, r, { namespace: '', path }));
  }
  return [nonResourceAttributes(user, method, path)];
}

function refusal(path: string, code: 401 | 403, message: string): Reply {
  if (isKubePath(path)) {
    return {
      status: code,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(statusObject(code, reasonOf(code), message)),
    };
  }
  return { status: code, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}

function forbiddenMessage(a: Attributes): string {
  const who = `User "${a.user.name}"`;
  if (!a.resourceRequest) return `forbidden: ${who} cannot ${a.verb} path "${a.path}"`;
  const where = a.namespace
    ? ` in the namespace "${a.namespace}"`
    : a.verb === 'create'
      ? ''
      : ' at the cluster scope';
  return `${a.resource}.${a.apiGroup} is forbidden: ${who} cannot ${a.verb} resource "${a.resource}" in API group "${a.apiGroup}"${where}`;
}

/**
 * Authenticates and authorizes one request. Returns undefined when it may go on, else the reply
 * (401 or 403: a Kubernetes Status on Kubernetes paths, plain text elsewhere). The reason a
 * credential was refused goes to `log`, never to the client.
 */
export async function checkRequest(
  auth: Auth,
  req: IncomingMessage,
  url: URL,
  log: (line: string) => void,
): Promise<Reply | undefined> {
  const path = trimTrailingSlash(url.pathname);
  if (OPEN.has(path)) return undefined;
  let user: UserInfo;
  try {
    user = await auth.authenticate(req);
  } catch (err) {
    if (!(err instanceof AuthenticationError)) throw err;
    log(`auth: ${req.socket.remoteAddress ?? '?'} ${req.method} ${path}: ${err.message}`);
    return refusal(path, 401, 'Unauthorized');
  }
  for (const a of requestAttributes(user, req.method ?? 'GET', path, url.searchParams)) {
    if ((await auth.authorize(a)) !== 'allow') return refusal(path, 403, forbiddenMessage(a));
  }
  return undefined;
}
