/**
 * @module Delegated authentication: ask the cluster who a bearer token is. Each token the token file
 * does not know is sent in a TokenReview (`authentication.k8s.io/v1`) to the API server of
 * `--authentication-kubeconfig`, as every aggregated API server and kube-rbac-proxy do
 * (k8s.io/apiserver pkg/authentication/authenticatorfactory/delegating.go, with the token webhook
 * authenticator of plugin/pkg/authenticator/token/webhook and the token cache of
 * pkg/authentication/token/cache). That is how a ServiceAccount token (Prometheus' own) becomes a
 * user here: `system:serviceaccount:<namespace>:<name>` with its uid, groups and extra.
 *
 * As kube's:
 * - The review carries the token and no audiences: like an aggregated API server without
 *   `--api-audiences`, the API server checks the token for its own audiences.
 * - `status.authenticated` true: the user as the API server says it. False: no user (401 "invalid
 *   bearer token"), kept in the cache like a yes. False with `status.error`: an error, not cached.
 * - The API server cannot be asked (unreachable, 5xx, an answer that is no TokenReview): an error,
 *   not cached, after kube's retries (DefaultShouldRetry: 500, 504, 429 and a reset connection,
 *   five tries, 500 ms apart growing ×1.5 with 20% jitter). Kube's authentication filter answers any
 *   authenticator error with 401 Unauthorized (not 503), and so does kjournal: the error is an
 *   AuthenticationError whose reason goes to the server's log only.
 * - Answers are cached for `--authentication-token-webhook-cache-ttl` (10 s), yes and no alike, under
 *   an HMAC-SHA256 of the token with a key drawn at start, never under the token itself (kube's
 *   cache key is the same hash); identical reviews in flight share one request. The cache is
 *   bounded (4096 entries, kube's 32 stripes of 128), the least recently used entry leaving first.
 */

import { createHmac, randomBytes } from 'node:crypto';
import { ClusterClient, type ClusterReply } from '../cluster/cluster.js';
import type { ClusterConnection } from './cluster-connection.js';
import type { TokenReviewConfig } from './config.js';
import { AuthenticationError } from './errors.js';
import { ReviewCache } from './review-cache.js';
import type { UserInfo } from './types.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
/** Cache entries at most: kube's token cache is 32 stripes of 128 entries. */
export const MAX_TOKEN_CACHE = 4096;

/** kube's DefaultAuthWebhookRetryBackoff: 500 ms, ×1.5, 20% jitter, 5 steps. */
export const TOKEN_REVIEW_BACKOFF = { initialMs: 500, factor: 1.5, jitter: 0.2, steps: 5 } as const;

/** What one review says: a user, or none (with the API server's error, if it gave one). */
type Answer = { readonly user: UserInfo } | { readonly user?: undefined; readonly error?: string };

export interface TokenReviewOptions {
  readonly now?: () => number;
  /** The first retry's delay (ms); tests shorten it, as kube's tests do (newWithBackoff). */
  readonly initialBackoffMs?: number;
  readonly maxEntries?: number;
}

/** A reply status that kube's DefaultShouldRetry retries: 500 (internal), 504 (timeout), 429. */
function retryableStatus(status: number): boolean {
  return status === 500 || status === 504 || status === 429;
}

/** A network error that kube retries: a reset connection (utilnet.IsConnectionReset). */
function retryableError(err: unknown): boolean {
  return /ECONNRESET|socket hang up/.test((err as Error).message ?? '');
}

class ReviewFailed extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

/** The user of a TokenReview's `status.user`, as kube's webhook authenticator copies it. */
function userOf(u: unknown): UserInfo {
  const o = u !== null && typeof u === 'object' ? (u as Record<string, unknown>) : {};
  const extra: Record<string, string[]> = {};
  if (o.extra !== null && typeof o.extra === 'object') {
    for (const [k, v] of Object.entries(o.extra as Record<string, unknown>)) extra[k] = strings(v);
  }
  return {
    name: typeof o.username === 'string' ? o.username : '',
    ...(typeof o.uid === 'string' && o.uid !== '' ? { uid: o.uid } : {}),
    groups: strings(o.groups),
    extra,
  };
}

/** The TokenReview authenticator with its cache. */
export class TokenReviewer {
  readonly #client: ClusterClient;
  readonly #cfg: TokenReviewConfig;
  readonly #key = randomBytes(32);
  readonly #cache: ReviewCache<Answer>;
  readonly #now: () => number;
  readonly #initialBackoffMs: number;
  /** TokenReviews actually sent (retries included; not those answered from the cache), for tests. */
  requests = 0;

  constructor(connection: ClusterConnection, cfg: TokenReviewConfig, opts: TokenReviewOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#client = new ClusterClient(connection.conn, {
      ...(connection.tokenFile !== undefined ? { tokenFile: connection.tokenFile } : {}),
      timeoutMs: cfg.timeoutMs,
      maxBytes: 1 << 20,
      now: this.#now,
    });
    this.#cfg = cfg;
    this.#initialBackoffMs = opts.initialBackoffMs ?? TOKEN_REVIEW_BACKOFF.initialMs;
    this.#cache = new ReviewCache(opts.maxEntries ?? MAX_TOKEN_CACHE, this.#now, true);
  }

  get server(): string {
    return this.#client.server;
  }

  /** Entries in the cache now (tests check the bound). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /**
   * The token's user, or undefined when the API server says it is not a valid token. Throws
   * AuthenticationError when the API server cannot be asked or answers with an error.
   */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    const answer = await this.#answer(token);
    if (answer.user !== undefined) return answer.user;
    if (answer.error !== undefined) throw new AuthenticationError(`TokenReview: ${answer.error}`);
    return undefined;
  }

  #hash(token: string): string {
    return createHmac('sha256', this.#key).update(token).digest('base64');
  }

  #answer(token: string): Promise<Answer> {
    // kube caches yes and no for the TTL, and an answer with status.error not at all.
    return this.#cache.get(
      this.#hash(token),
      () => this.#review(token),
      (answer) => (answer.user !== undefined || answer.error === undefined ? this.#cfg.cacheTtlMs : 0),
    );
  }

  /** One review, retried as kube's webhook retries it; AuthenticationError when it cannot be had. */
  async #review(token: string): Promise<Answer> {
    let delay = this.#initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(token);
      } catch (err) {
        if (!(err instanceof ReviewFailed)) throw err;
        if (!err.retry || attempt >= TOKEN_REVIEW_BACKOFF.steps) {
          throw new AuthenticationError(`TokenReview to ${this.#client.server} failed: ${err.message}`);
        }
      }
      const wait = delay * (1 + Math.random() * TOKEN_REVIEW_BACKOFF.jitter);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      delay *= TOKEN_REVIEW_BACKOFF.factor;
    }
  }

  async #send(token: string): Promise<Answer> {
    this.requests++;
    const body = JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    let res: ClusterReply;
    try {
      res = await this.#client.request('POST', TOKEN_REVIEW_PATH, body);
    } catch (err) {
      throw new ReviewFailed((err as Error).message, retryableError(err));
    }
    if (res.status < 200 || res.status > 299) {
      throw new ReviewFailed(
        `HTTP ${res.status} ${res.body.slice(0, 200).replace(/\s+/g, ' ')}`,
        retryableStatus(res.status),
      );
    }
    let doc: unknown;
    try {
      doc = JSON.parse(res.body);
    } catch {
      throw new ReviewFailed('the answer is not JSON', false);
    }
    const status = (doc as { status?: unknown } | null)?.status;
    if (status === null || typeof status !== 'object')
      throw new ReviewFailed('the answer has no status', false);
    const s = status as Record<string, unknown>;
    if (s.authenticated === true) {
      const user = userOf(s.user);
      if (user.name === '') throw new ReviewFailed('authenticated, but without a user name', false);
      return { user };
    }
    return typeof s.error === 'string' && s.error !== '' ? { error: s.error } : {};
  }
}
