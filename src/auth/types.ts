/**
 * @module The vocabulary of authentication and authorization, after kube-apiserver's `user.Info`
 * and `authorizer.Attributes`: who is asking (a user with groups and extra attributes) and what for
 * (a verb on a resource in an API group and namespace, or on a non-resource path).
 */

/** An authenticated (or anonymous) user, as kube-apiserver's `user.Info`. */
export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** Extra attributes (the front proxy's `X-Remote-Extra-<key>` headers), keys lower-case. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** The group every authenticated user belongs to. */
export const ALL_AUTHENTICATED = 'system:authenticated';
/** The group of the anonymous user. */
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
/** The name of the anonymous user. */
export const ANONYMOUS = 'system:anonymous';

/** The user of a request that carries no credentials, where that is allowed. */
export const ANONYMOUS_USER: UserInfo = Object.freeze({
  name: ANONYMOUS,
  groups: Object.freeze([ALL_UNAUTHENTICATED]),
  extra: Object.freeze({}),
});

/**
 * What a request asks to do, as kube-apiserver's `authorizer.Attributes`. A resource request names
 * a resource (and its group, version, namespace, name); a non-resource request only a path.
 */
export interface Attributes {
  readonly user: UserInfo;
  /**
   * Resource requests: get, list, watch, create, update, patch, delete, deletecollection.
   * Non-resource requests: the HTTP method in lower case (get, post, put, ...).
   */
  readonly verb: string;
  readonly resourceRequest: boolean;
  /** '' is the core group. */
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource?: string;
  /** '' or absent: cluster-scoped, or across all namespaces. */
  readonly namespace?: string;
  readonly name?: string;
  /** The request path (what non-resource rules match). */
  readonly path: string;
}

/** An authorizer's answer. `no-opinion` lets the next authorizer decide; in the end it means 403. */
export type Decision = 'allow' | 'deny' | 'no-opinion';

/** The API group of kjournal's own resources (`kubectl get containerlogs`). */
export const KJOURNAL_API_GROUP = 'core.kjournal';

/** The resource that stands for each kind of record. */
export const RESOURCE_FOR_KIND: Readonly<Record<string, string>> = Object.freeze({
  containerlog: 'containerlogs',
  event: 'events',
  auditevent: 'auditevents',
  log: 'logs',
});

/** Resources whose objects live in a namespace; the others are cluster-scoped. */
export const NAMESPACED_RESOURCES: ReadonlySet<string> = new Set(['containerlogs', 'events']);

/**
 * The resource that stands for a tenant (`X-Scope-OrgID`): `get` to read one, `create` to write
 * to one, the tenant as the name, cluster-scoped.
 */
export const TENANTS_RESOURCE = 'tenants';

/** kube-apiserver's superuser group: its members may do everything, whatever the authorizer says. */
export const SYSTEM_MASTERS = 'system:masters';

/** Attributes of a read or write of kjournal's records (a resource request). */
export function resourceAttributes(
  user: UserInfo,
  verb: string,
  resource: string,
  options: {
    namespace?: string;
    name?: string;
    subresource?: string;
    apiGroup?: string;
    apiVersion?: string;
    path?: string;
  } = {},
): Attributes {
  return {
    user,
    verb,
    resourceRequest: true,
    apiGroup: options.apiGroup ?? KJOURNAL_API_GROUP,
    apiVersion: options.apiVersion ?? '',
    resource,
    ...(options.subresource !== undefined ? { subresource: options.subresource } : {}),
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    path: options.path ?? '',
  };
}

/** Attributes of a request for a path that is not a resource (`/ready`, `/metrics`): verb = method. */
export function nonResourceAttributes(user: UserInfo, method: string, path: string): Attributes {
  return {
    user,
    verb: method.toLowerCase(),
    resourceRequest: false,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    path,
  };
}
