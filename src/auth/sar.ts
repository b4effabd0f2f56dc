/**
 * @module Delegated authorization: ask the cluster. Each decision is a SubjectAccessReview
 * (`authorization.k8s.io/v1`) posted to the API server of `--authorization-kubeconfig`, with the
 * user's name, uid, groups and extra and the request's resource or non-resource attributes, as
 * kube-apiserver's webhook authorizer sends it. Answers are cached by the review's spec for a TTL,
 * allowed ones longer than denied ones (5 minutes and 30 seconds by default, kube-apiserver's webhook
 * defaults); failures are not cached and throw AuthorizationError. Identical reviews in flight share
 * one request.
 *
 * The cluster's answer is final: a RBAC rule with `*` grants audit events as it grants everything
 * else. That the aggregated view/edit/admin roles never include them is the cluster's RBAC
 * (deploy/base/rbac-users.yaml), not something to second-guess here.
 *
 * The kubeconfig is read with kjournal's own kubeconfig reader (the one the CLI uses): token, token
 * file (re-read every minute and on a 401, as client-go does, since the kubelet rotates ServiceAccount
 * tokens), client certificate, basic auth and exec plugins (whose token is renewed on a 401).
 */

import { ClusterClient, type ClusterReply } from '../cluster/cluster.js';
import { type ClusterConnection, loadClusterConnection } from './cluster-connection.js';
import type { SarConfig } from './config.js';
import { AuthorizationError } from './errors.js';
import { ReviewCache } from './review-cache.js';
import type { Attributes, Decision } from './types.js';

export const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const MAX_CACHE = 10_000;

/** `SubjectAccessReviewSpec`, empty fields left out as Go's `omitempty` leaves them out. */
export interface SarSpec {
  resourceAttributes?: Record<string, string>;
  nonResourceAttributes?: { path: string; verb: string };
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

export interface SarStatus {
  readonly allowed: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
  readonly evaluationError?: string;
}

function omitEmpty(o: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** The review's spec for a request, as kube-apiserver's webhook authorizer builds it. */
export function sarSpec(a: Attributes): SarSpec {
  const spec: SarSpec = {};
  if (a.resourceRequest) {
    spec.resourceAttributes = omitEmpty({
      namespace: a.namespace,
      verb: a.verb,
      group: a.apiGroup,
      version: a.apiVersion,
      resource: a.resource,
      subresource: a.subresource,
      name: a.name,
    });
  } else {
    spec.nonResourceAttributes = { path: a.path, verb: a.verb };
  }
  if (a.user.name !== '') spec.user = a.user.name;
  if (a.user.groups.length > 0) spec.groups = [...a.user.groups];
  if (Object.keys(a.user.extra).length > 0) {
    spec.extra = Object.fromEntries(Object.entries(a.user.extra).map(([k, v]) => [k, [...v]]));
  }
  if (a.user.uid !== undefined && a.user.uid !== '') spec.uid = a.user.uid;
  return spec;
}

/** What the authorizer needs from the kubeconfig (the same reader as `--authentication-kubeconfig`). */
export type SarConnection = ClusterConnection;

/** Reads the kubeconfig; its errors become AuthConfigErrors naming the flag. */
export function loadSarConnection(cfg: SarConfig): SarConnection {
  return loadClusterConnection(cfg.kubeconfig, cfg.context, '--authorization-kubeconfig');
}

/** The SubjectAccessReview authorizer with its cache. */
export class SarAuthorizer {
  readonly #client: ClusterClient;
  readonly #cfg: SarConfig;
  readonly #cache: ReviewCache<SarStatus>;
  /** Reviews actually sent (not answered from the cache), for tests and metrics. */
  requests = 0;

  constructor(connection: SarConnection, cfg: SarConfig, now: () => number = Date.now) {
    this.#client = new ClusterClient(connection.conn, {
      ...(connection.tokenFile !== undefined ? { tokenFile: connection.tokenFile } : {}),
      timeoutMs: cfg.timeoutMs,
      now,
    });
    this.#cfg = cfg;
    this.#cache = new ReviewCache(MAX_CACHE, now, false);
  }

  /** The cluster's decision; throws AuthorizationError when the cluster cannot be asked. */
  async authorize(a: Attributes): Promise<Decision> {
    return decisionOf(await this.review(sarSpec(a)));
  }

  /** One review, from the cache when a fresh answer is there. */
  review(spec: SarSpec): Promise<SarStatus> {
    return this.#cache.get(
      JSON.stringify(spec),
      () => this.#send(spec),
      (status) => (status.allowed ? this.#cfg.allowTtlMs : this.#cfg.denyTtlMs),
    );
  }

  async #send(spec: SarSpec): Promise<SarStatus> {
    this.requests++;
    const body = JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
    let res: ClusterReply;
    try {
      res = await this.#client.request('POST', SAR_PATH, body);
    } catch (err) {
      throw new AuthorizationError(
        `SubjectAccessReview to ${this.#client.server} failed: ${(err as Error).message}`,
      );
    }
    if (res.status < 200 || res.status > 299) {
      throw new AuthorizationError(
        `SubjectAccessReview to ${this.#client.server} failed: HTTP ${res.status} ${res.body.slice(0, 200).replace(/\s+/g, ' ')}`,
      );
    }
    let doc: unknown;
    try {
      doc = JSON.parse(res.body);
    } catch {
      throw new AuthorizationError(`SubjectAccessReview to ${this.#client.server}: the answer is not JSON`);
    }
    const status = (doc as { status?: unknown }).status;
    if (status === null || typeof status !== 'object') {
      throw new AuthorizationError(`SubjectAccessReview to ${this.#client.server}: the answer has no status`);
    }
    const s = status as Record<string, unknown>;
    return {
      allowed: s.allowed === true,
      ...(s.denied === true ? { denied: true } : {}),
      ...(typeof s.reason === 'string' && s.reason !== '' ? { reason: s.reason } : {}),
      ...(typeof s.evaluationError === 'string' && s.evaluationError !== ''
        ? { evaluationError: s.evaluationError }
        : {}),
    };
  }
}

/** kube-apiserver's webhook authorizer: allowed → allow, denied → deny, else no opinion. */
export function decisionOf(status: SarStatus): Decision {
  if (status.allowed) return 'allow';
  return status.denied === true ? 'deny' : 'no-opinion';
}
