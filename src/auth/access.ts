/**
 * @module A request's access: who is asking, for which tenant, and a way to ask the configured
 * authorizer (src/auth/index.ts) whether they may do something. The gate (src/api/http/auth-gate.ts)
 * authenticates every request, decides its tenant and gives it an Access (`RequestContext.access`);
 * what only the handler can know (what a push carries, what a query selects) the handler asks for
 * itself, before it stores or reads anything:
 *
 *     await ctx.access.require([{ verb: 'create', resource: 'containerlogs', namespace: 'shop' }]);
 *
 * `require` throws ForbiddenError (a 403 in the API's one error place) naming the first thing
 * refused; `allowed` answers true or false. Both reject with AuthorizationError when the authorizer
 * cannot be asked (a 500). An Access remembers whether any decision was made for its request, so the
 * server can refuse to send an answer that no decision covered (src/api/http/dispatch.ts).
 */
import { ForbiddenError } from './errors.js';
import {
  type Attributes,
  type Decision,
  KJOURNAL_API_GROUP,
  nonResourceAttributes,
  resourceAttributes,
  type UserInfo,
} from './types.js';

/** Something a request wants to do with a resource (kjournal's own group unless `apiGroup` says). */
export interface ResourceWant {
  readonly verb: string;
  readonly resource: string;
  /** '' or absent: a cluster-scoped resource, or a namespaced one in every namespace. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly apiGroup?: string;
}

/** Something a request wants to do with a path that is no resource (`/metrics`, `/apis`). */
export interface PathWant {
  /** The HTTP method in lower case, as kube-apiserver's non-resource verbs. */
  readonly verb: string;
  readonly path: string;
}

export type Want = ResourceWant | PathWant;

export type Authorize = (attrs: Attributes) => Promise<Decision>;

export interface Access {
  /** The authenticated user (`system:anonymous` when nothing is configured). */
  readonly user: UserInfo;
  /** The tenant the request reads or writes, decided and authorized by the gate. */
  readonly tenant: string;
  /** Whether any authorization decision was made for this request. */
  readonly decided: boolean;
  /** Whether the authorizer allows `want`. */
  allowed(want: Want): Promise<boolean>;
  /** Asks for each of `wants` in turn; throws ForbiddenError for the first one refused. */
  require(wants: Iterable<Want>): Promise<void>;
}

/** The attributes the authorizer sees for a want of `user` on a request for `path`. */
export function attributesOf(user: UserInfo, want: Want, path: string): Attributes {
  if ('path' in want) return nonResourceAttributes(user, want.verb, want.path);
  return resourceAttributes(user, want.verb, want.resource, {
    namespace: want.namespace ?? '',
    apiGroup: want.apiGroup ?? KJOURNAL_API_GROUP,
    path,
    ...(want.name !== undefined ? { name: want.name } : {}),
    ...(want.subresource !== undefined ? { subresource: want.subresource } : {}),
  });
}

/** The Access of one request. */
export class RequestAccess implements Access {
  #decided = false;

  constructor(
    readonly user: UserInfo,
    readonly tenant: string,
    /** The request's path, which the authorizer is told. */
    private readonly path: string,
    private readonly authorize: Authorize,
  ) {}

  get decided(): boolean {
    return this.#decided;
  }

  /** Records a decision made without asking (paths open to everyone). */
  markDecided(): void {
    this.#decided = true;
  }

  async allowed(want: Want): Promise<boolean> {
    this.#decided = true;
    return (await this.authorize(attributesOf(this.user, want, this.path))) === 'allow';
  }

  async require(wants: Iterable<Want>): Promise<void> {
    this.#decided = true;
    const asked = new Set<string>();
    for (const want of wants) {
      const attrs = attributesOf(this.user, want, this.path);
      const key = JSON.stringify([
        attrs.verb,
        attrs.apiGroup,
        attrs.resource,
        attrs.namespace,
        attrs.name,
        attrs.path,
      ]);
      if (asked.has(key)) continue;
      asked.add(key);
      if ((await this.authorize(attrs)) !== 'allow') throw new ForbiddenError(attrs);
    }
  }
}
