/**
 * @module The Loki API under the `core.kjournal` group's path, so that it can be reached through
 * kube-apiserver's API aggregation (which forwards everything under `/apis/core.kjournal/v1alpha1/`
 * to kjournal, with the caller's identity in the front-proxy headers):
 *
 * - `/apis/core.kjournal/v1alpha1/loki/api/v1/...`: the whole Loki API, as at `/loki/api/v1/...`;
 * - `/apis/core.kjournal/v1alpha1/namespaces/<ns>/loki/api/v1/...`: its read endpoints restricted
 *   to one namespace (every selector gets `namespace="<ns>"`, lokistack.ts), for a user who may read
 *   only there;
 * - `/apis/core.kjournal/v1alpha1/korrel8r/logs`: korrel8r's log queries.
 *
 * So a Grafana Loki data source whose URL is the API server's plus
 * `/apis/core.kjournal/v1alpha1[/namespaces/<ns>]` works with a service account token, and so does
 * `kjournal query` with a kubeconfig. kube-apiserver authorizes such a request first, as it reads
 * the path: resource `loki`, subresource `v1` (name `api`), verb `get` (or `create` for a POST), in
 * the namespace of a namespaced path; kjournal then authorizes it as it authorizes the Loki API.
 */

import type { LabelMatcher } from '../../logql/ast.js';
import { classMatcher } from '../../logql/restrict.js';
import type { LogClass } from '../../model/record.js';
import { decodeSegment, type Handler } from '../http/router.js';
import { lokiStackTailClass, restrictedHandler } from './lokistack.js';

/** The group-version path every aggregated request starts with. */
export const GROUP_PATH = '/apis/core.kjournal/v1alpha1';
/** The Loki API under the group's path. */
export const GROUP_LOKI_PATH = `${GROUP_PATH}/loki/api/v1`;
/** The namespaced Loki read API (a router pattern). */
export const NAMESPACED_LOKI_PATH = `${GROUP_PATH}/namespaces/{namespace}/loki/api/v1`;
/** korrel8r's log queries under the group's path. */
export const GROUP_KORREL8R_PATH = `${GROUP_PATH}/korrel8r/logs`;

const NAMESPACED_TAIL = /^\/apis\/core\.kjournal\/v1alpha1\/namespaces\/([^/]+)\/loki\/api\/v1\/tail$/;

/** The matcher of a namespaced path: the namespace under any of its names (plain, Viaq, OTEL). */
export function namespaceMatcher(namespace: string): LabelMatcher {
  return { name: 'namespace', op: '=', value: namespace };
}

/** `handler` restricted to the namespace of its path's `{namespace}`. */
export function namespacedHandler(handler: Handler): Handler {
  return restrictedHandler(handler, (ctx) => ({
    matchers: [namespaceMatcher(ctx.pathParams?.namespace ?? '')],
  }));
}

/**
 * For a WebSocket upgrade at `path` (trailing slash trimmed): undefined when it is not a tail path,
 * else the matchers that restrict the tail (none on the plain paths).
 */
export function tailRestriction(
  path: string,
): { readonly restriction?: readonly LabelMatcher[]; readonly cls?: LogClass } | undefined {
  if (path === '/loki/api/v1/tail' || path === `${GROUP_LOKI_PATH}/tail`) return {};
  const cls = lokiStackTailClass(path);
  if (cls) return { restriction: [classMatcher(cls)], cls };
  const ns = NAMESPACED_TAIL.exec(path)?.[1];
  if (ns !== undefined) return { restriction: [namespaceMatcher(decodeSegment(ns))] };
  return undefined;
}
