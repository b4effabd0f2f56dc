/**
 * @module The auth configuration, one field per kube-apiserver flag it mirrors. Everything is
 * optional: with no authenticator and no authorizer the server admits everyone, on loopback only.
 */

export interface RequestHeaderConfig {
  /** `--requestheader-client-ca-file`: the CA that signs the front proxy's client certificate. */
  readonly clientCaFile: string;
  /** `--requestheader-allowed-names`: common names the proxy's certificate may have; empty: any. */
  readonly allowedNames: readonly string[];
  /** `--requestheader-username-headers` (default `X-Remote-User`). */
  readonly usernameHeaders: readonly string[];
  /** `--requestheader-group-headers` (default `X-Remote-Group`). */
  readonly groupHeaders: readonly string[];
  /** `--requestheader-extra-headers-prefix` (default `X-Remote-Extra-`). */
  readonly extraHeaderPrefixes: readonly string[];
}

export interface SarConfig {
  /** `--authorization-kubeconfig`. */
  readonly kubeconfig: string;
  /** Context of the kubeconfig to use; its current context when absent. */
  readonly context?: string;
  /** How long an allowed answer is kept (ms); kube-apiserver's webhook default is 5 minutes. */
  readonly allowTtlMs: number;
  /** How long a denied answer is kept (ms); kube-apiserver's webhook default is 30 seconds. */
  readonly denyTtlMs: number;
  /** Time limit of one SubjectAccessReview (ms). */
  readonly timeoutMs: number;
}

/**
 * Delegated authentication (k8s.io/apiserver's DelegatingAuthenticationOptions): bearer tokens the
 * token file does not know are checked with a TokenReview by the cluster of `--authentication-kubeconfig`.
 */
export interface TokenReviewConfig {
  /** `--authentication-kubeconfig`. */
  readonly kubeconfig: string;
  /** Context of the kubeconfig to use; its current context when absent. */
  readonly context?: string;
  /**
   * `--authentication-token-webhook-cache-ttl` (ms): how long an answer, yes or no, is kept; kube's
   * delegated authenticator keeps both for the same time, 10 seconds by default. 0: not cached.
   */
  readonly cacheTtlMs: number;
  /** Time limit of one TokenReview (ms): kube's delegated TokenRequestTimeout, 10 seconds. */
  readonly timeoutMs: number;
}

export interface AuthConfig {
  /** `--tls-cert-file` and `--tls-private-key-file`: serve HTTPS. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** `--client-ca-file`: client certificates signed by it authenticate as CN, groups O. */
  readonly clientCaFile?: string;
  /** `--token-auth-file`: static bearer tokens. */
  readonly tokenAuthFile?: string;
  /** The authenticating front proxy (API aggregation). */
  readonly requestHeader?: RequestHeaderConfig;
  /** `--authentication-kubeconfig`: bearer tokens checked by the cluster (TokenReview). */
  readonly tokenReview?: TokenReviewConfig;
  /** `--authorization-policy-file`: ABAC policies. */
  readonly policyFile?: string;
  /** `--authorization-kubeconfig`: ask the cluster (SubjectAccessReview). */
  readonly sar?: SarConfig;
}

export const DEFAULT_REQUEST_HEADERS = {
  usernameHeaders: ['X-Remote-User'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
} as const;

export const DEFAULT_SAR_TIMING = { allowTtlMs: 5 * 60_000, denyTtlMs: 30_000, timeoutMs: 10_000 } as const;

export const DEFAULT_TOKEN_REVIEW_TIMING = { cacheTtlMs: 10_000, timeoutMs: 10_000 } as const;
