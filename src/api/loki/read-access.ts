/**
 * @module The one decision for reads of log data outside the Kubernetes API: Loki's read endpoints
 * (at `/loki/api/v1`, under the group's path, and its namespaced path), LokiStack's class paths, the
 * tail WebSocket and korrel8r. Namespace-scoped, as LokiStack's OpenShift mode scopes a namespace
 * user's LogQL:
 *
 * - A read whose every stream selector pins its namespaces (`namespace="a"`, or `=~"a|b"` of
 *   literal names, under any of the plain, Viaq or OTEL names), or that a namespaced path pins, may
 *   read a kind of record when its user may `list` (`watch` for the tail) that kind's resource in
 *   each of those namespaces.
 * - Any other read (a selector without such a matcher, a metadata request without a query) reads
 *   a kind only with that right cluster-wide.
 * - The kinds a read may return are those of the path (all four; a LokiStack class's) that the
 *   user may read so: the others are cut out of the request with a `kind` matcher on every
 *   selector, so the answer only ever covers what the user may see (containerlogs without events,
 *   say). A read that may return none is refused (403), with kube-apiserver's words for the first
 *   right it lacks, and, where a namespace would have done, a hint to name it.
 *
 * Every such read goes through `authorizeLogRead`, before its query is queued: the HTTP endpoints
 * through `logRead(handler)` (wrapped around each route where it is registered, api/loki/routes.ts),
 * the tail from its upgrade. A query that does not parse is refused as the handler would refuse it
 * (400), so that a namespace user sees their syntax error, not a 403.
 */
import { type Access, ForbiddenError, type ResourceWant } from '../../auth/index.js';
import { parseKorrel8rQuery } from '../../korrel8r/query.js';
import type { LabelMatcher } from '../../logql/ast.js';
import { namespacesOfSelectors, pinnedNamespaces, selectorsOf } from '../../logql/namespaces.js';
import { parseLogql } from '../../logql/parser.js';
import type { Handler } from '../http/router.js';
import { withRestriction } from './lokistack.js';

const ALL_RESOURCES = ['containerlogs', 'events', 'auditevents', 'logs'] as const;
const CLASS_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  application: ['containerlogs', 'events'],
  infrastructure: ['containerlogs', 'events', 'logs'],
  audit: ['auditevents'],
};
/** The `kind` label of each resource's records (model/classify.ts). */
const KIND_OF: Readonly<Record<string, string>> = {
  containerlogs: 'containerlog',
  events: 'event',
  auditevents: 'auditevent',
  logs: 'log',
};

/** A read of log data, as the decision sees it. */
export interface LogRead {
  /** `list` for the HTTP endpoints, `watch` for the tail. */
  readonly verb: 'list' | 'watch';
  /** The request's parameters: query string, or form fields of a POSTed form. */
  readonly params: URLSearchParams;
  /** The class of a LokiStack path (`/api/logs/v1/<class>/...`). */
  readonly classRestriction?: string;
  /** The matchers a restricted path adds to every selector (a class, a namespace: lokistack.ts). */
  readonly restriction?: readonly LabelMatcher[];
}

/** The resources a read can return. */
export function readableResources(classRestriction: string | undefined): readonly string[] {
  return classRestriction === undefined
    ? ALL_RESOURCES
    : (CLASS_RESOURCES[classRestriction] ?? ALL_RESOURCES);
}

/** The stream selectors a read's parameters name: `query` (LogQL or korrel8r's), `match[]`. */
function selectorsOfRequest(params: URLSearchParams): (readonly LabelMatcher[])[] | undefined {
  const out: (readonly LabelMatcher[])[] = [];
  const query = params.get('query');
  if (query !== null && query.trim() !== '') {
    const logql = query.trimStart().startsWith('log:') ? parseKorrel8rQuery(query).logql : query;
    for (const s of selectorsOf(parseLogql(logql))) out.push(s.matchers);
  }
  for (const m of params.getAll('match[]')) {
    if (m.trim() !== '') for (const s of selectorsOf(parseLogql(m))) out.push(s.matchers);
  }
  return out.length > 0 ? out : undefined;
}

/**
 * The namespaces a read is confined to, or undefined when it may read any: a namespaced path's,
 * else those the request's selectors pin (undefined if one of them pins none).
 */
function namespacesOf(read: LogRead): Set<string> | undefined {
  const path = pinnedNamespaces(read.restriction ?? []);
  if (path) return path;
  const selectors = selectorsOfRequest(read.params);
  return selectors ? namespacesOfSelectors(selectors) : undefined;
}

/**
 * Decides a read: throws ForbiddenError when it may return nothing, else resolves with the matchers
 * that confine it to the kinds its user may read (none when it may read every kind of its path).
 */
export async function authorizeLogRead(access: Access, read: LogRead): Promise<readonly LabelMatcher[]> {
  const resources = readableResources(read.classRestriction);
  const namespaces = namespacesOf(read);
  const allowed: string[] = [];
  let refused: ResourceWant | undefined;
  for (const resource of resources) {
    const wants: ResourceWant[] = namespaces
      ? [...namespaces].map((namespace) => ({ verb: read.verb, resource, namespace }))
      : [{ verb: read.verb, resource, namespace: '' }];
    let ok = true;
    for (const want of wants) {
      if (!(await access.allowed(want))) {
        refused ??= want;
        ok = false;
        break;
      }
    }
    if (ok) allowed.push(resource);
  }
  if (allowed.length === 0) {
    // Asked again through `require`, for kube-apiserver's words about the first right refused.
    const first = refused ?? { verb: read.verb, resource: resources[0] ?? 'containerlogs', namespace: '' };
    try {
      await access.require([first]);
    } catch (err) {
      if (err instanceof ForbiddenError && !namespaces) {
        throw new ForbiddenError(
          err.attributes,
          'a query that does not name its namespaces (as {namespace="shop"}) reads every namespace',
        );
      }
      throw err;
    }
    allowed.push(first.resource); // allowed after all (the authorizer changed its mind)
  }
  if (allowed.length === resources.length) return [];
  const kinds = allowed.map((r) => KIND_OF[r]!);
  return [{ name: 'kind', op: kinds.length === 1 ? '=' : '=~', value: kinds.join('|') }];
}

/** A read handler that runs only once `authorizeLogRead` allowed the request, confined as it says. */
export function logRead(handler: Handler): Handler {
  return async (ctx) => {
    const confine = await authorizeLogRead(ctx.access, {
      verb: 'list',
      params: ctx.params,
      ...(ctx.classRestriction === undefined ? {} : { classRestriction: ctx.classRestriction }),
      ...(ctx.restriction === undefined ? {} : { restriction: ctx.restriction }),
    });
    return handler(withRestriction(ctx, confine));
  };
}
