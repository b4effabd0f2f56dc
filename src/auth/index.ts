/**
 * @module Authentication and authorization for kjournal's server, after kube-apiserver: who is
 * asking (front proxy headers, client certificates, static bearer tokens, bearer tokens the cluster
 * vouches for with a TokenReview) and whether they may
 * (ABAC policy file, then the cluster's SubjectAccessReview). `createAuth(config)` reads every file
 * at once, so a bad configuration stops the server before it listens, with one line naming the file.
 *
 * Without any authenticator or authorizer everyone is admitted as `system:anonymous`, and the server
 * must then listen on a loopback address only (`checkListen`). With authenticators but no authorizer
 * every authenticated user may do everything, audit events and every tenant included (kube-apiserver's
 * AlwaysAllow): a token file alone is a list of who may use the server, nothing finer. Members of
 * `system:masters` may always do everything, as kube-apiserver's privileged-group authorizer allows
 * them before any other.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from 'node:https';
import { isIP } from 'node:net';
import { getOrCreate } from '../util/maps.js';
import { abacAuthorize, loadPolicyFile, type Policy } from './abac.js';
import { authenticateRequest, buildAuthenticators, tlsOptions } from './authenticate.js';
import type { AuthConfig } from './config.js';
import { AuthConfigError } from './errors.js';
import { loadSarConnection, SarAuthorizer } from './sar.js';
import { type Attributes, type Decision, SYSTEM_MASTERS, type UserInfo } from './types.js';
import { type CaBundle, readCaBundle } from './x509.js';

export { type Access, type PathWant, RequestAccess, type ResourceWant, type Want } from './access.js';
export type { AuthConfig } from './config.js';
export {
  AuthConfigError,
  AuthenticationError,
  AuthorizationError,
  ForbiddenError,
  forbiddenMessage,
} from './errors.js';
export { type AuthFlags, addAuthFlags, authConfigFromFlags } from './flags.js';
export * from './types.js';

export interface Auth {
  /** The request's user; rejects with AuthenticationError (answer 401) when it has none. */
  authenticate(req: IncomingMessage): Promise<UserInfo>;
  /**
   * `system:masters` first (always allowed), then ABAC, then the cluster: the first allow or deny
   * wins; without an authorizer, allow. Anything but `allow` is a 403. Rejects with
   * AuthorizationError (answer 500) when the cluster cannot be asked.
   */
  authorize(attrs: Attributes): Promise<Decision>;
  /** One line for the start-up message. */
  describe(): string;
  /** True when nothing is configured: everyone is admitted, so only loopback is allowed. */
  readonly requireLoopback: boolean;
  /** Options for `https.createServer`, or undefined for plain HTTP. */
  readonly tls: ServerOptions | undefined;
  /** Throws AuthConfigError (one line) when the server may not listen on `host`. */
  checkListen(host: string): void;
}

/** Whether a listen host is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^(0+:){7}0*1$/.test(h);
  return false;
}

/** Reads the configuration's files and builds the authenticators and authorizers. */
export function createAuth(config: AuthConfig): Auth {
  // TLS and the authenticators need the same CA files: each is read and parsed once.
  const bundles = new Map<string, CaBundle>();
  const readCa = (file: string, flag: string): CaBundle =>
    getOrCreate(bundles, `${flag}\0${file}`, () => readCaBundle(file, flag));
  const tls = tlsOptions(config, readCa);
  const authn = buildAuthenticators(config, readCa);
  const policies: Policy[] | undefined =
    config.policyFile !== undefined ? loadPolicyFile(config.policyFile) : undefined;
  const sar =
    config.sar !== undefined ? new SarAuthorizer(loadSarConnection(config.sar), config.sar) : undefined;
  const requireLoopback = authn.chain.length === 0 && policies === undefined && sar === undefined;

  const authzParts: string[] = [];
  if (policies !== undefined) authzParts.push(`ABAC ${config.policyFile} (${policies.length} policies)`);
  if (sar !== undefined) authzParts.push(`SubjectAccessReview via ${config.sar!.kubeconfig}`);
  const line = requireLoopback
    ? `${tls ? 'HTTPS' : 'HTTP'}, no authentication or authorization: every request is admitted as system:anonymous (loopback only)`
    : [
        tls ? 'HTTPS' : 'HTTP (no TLS)',
        `authentication: ${authn.chain.map((a) => a.name).join(', ') || 'none (requests are system:anonymous)'}`,
        authzParts.length > 0
          ? `authorization: ${authzParts.join(', then ')} (members of ${SYSTEM_MASTERS} may do everything)`
          : 'authorization: none: every authenticated user may do everything: read and write every resource, audit events included, in every tenant, and read /metrics (AlwaysAllow); give --authorization-policy-file or --authorization-kubeconfig to limit them',
      ].join('; ');

  return {
    tls,
    requireLoopback,
    async authenticate(req) {
      return authenticateRequest(authn, req);
    },
    async authorize(attrs) {
      // kube-apiserver's privileged group authorizer comes before any other.
      if (attrs.user.groups.includes(SYSTEM_MASTERS)) return 'allow';
      // No authorizer: AlwaysAllow (everyone who got past authentication, or loopback only).
      if (policies === undefined && sar === undefined) return 'allow';
      if (policies !== undefined) {
        const d = abacAuthorize(policies, attrs);
        if (d !== 'no-opinion') return d;
      }
      if (sar !== undefined) return sar.authorize(attrs);
      return 'no-opinion';
    },
    describe: () => line,
    checkListen(host) {
      if (requireLoopback && !isLoopbackHost(host)) {
        throw new AuthConfigError(
          `refusing to listen on ${host} without authentication: use a loopback address or give --token-auth-file, --client-ca-file, --requestheader-client-ca-file, --authentication-kubeconfig or an authorization flag`,
          'usage',
        );
      }
    },
  };
}
