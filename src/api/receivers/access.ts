/**
 * @module Who writes through a listener that has no HTTP request (forward, syslog, GELF over TCP
 * and UDP): the listener's own user, authorized as any request is (src/auth: ABAC, then the
 * cluster's SubjectAccessReview; without an authorizer, allowed). A forward connection that proved
 * the shared key is `system:kjournal:forward`; syslog and GELF, which carry no credentials, are
 * `system:kjournal:syslog` and `system:kjournal:gelf` (a syslog connection over TLS with a client
 * certificate signed by `--client-ca-file` is the certificate's CN, as kube-apiserver has it). All
 * are in `system:authenticated` and `system:kjournal:receivers`, so one binding can cover them.
 *
 * The tenant is the listener's flag (`--forward-tenant`, `--syslog-tenant`, `--gelf-tenant`): one
 * other than `default` needs `create` on `tenants` named after it, as X-Scope-OrgID does on a push.
 */

import { RequestAccess } from '../../auth/access.js';
import type { Auth } from '../../auth/index.js';
import { ALL_AUTHENTICATED, TENANTS_RESOURCE, type UserInfo } from '../../auth/types.js';
import { DEFAULT_TENANT, tenantOf } from '../http/tenant.js';

export const RECEIVERS_GROUP = 'system:kjournal:receivers';

/** The user of a receiver that authenticates nobody (`system:kjournal:<protocol>`). */
export function receiverUser(protocol: string, name = `system:kjournal:${protocol}`): UserInfo {
  return { name, groups: [RECEIVERS_GROUP, ALL_AUTHENTICATED], extra: {} };
}

/** Checks a listener's tenant flag; throws HttpError (400) with Loki's text when it is not one. */
export function listenerTenant(flag: string | undefined): string {
  return tenantOf(flag);
}

/**
 * The Access of one connection or datagram batch: `user` writing to `tenant`, asked of `auth`
 * (everyone allowed without one). Rejects with ForbiddenError when the tenant is not theirs.
 */
export async function receiverAccess(
  auth: Auth | undefined,
  user: UserInfo,
  tenant: string,
  path: string,
): Promise<RequestAccess> {
  const authorize = auth
    ? (a: Parameters<Auth['authorize']>[0]) => auth.authorize(a)
    : async () => 'allow' as const;
  if (tenant !== DEFAULT_TENANT) {
    await new RequestAccess(user, tenant, path, authorize).require([
      { verb: 'create', resource: TENANTS_RESOURCE, name: tenant },
    ]);
  }
  return new RequestAccess(user, tenant, path, authorize);
}
