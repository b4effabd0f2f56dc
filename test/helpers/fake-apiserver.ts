/**
 * @module A recorded-protocol stand-in for kube-apiserver (which cannot run here) for delegated
 * authentication and authorization: over HTTPS with a test certificate, it answers
 * `POST /apis/authentication.k8s.io/v1/tokenreviews` from a table of known tokens, as the API server
 * answers for ServiceAccount tokens (the review echoed back with `status.authenticated` and
 * `status.user`), and `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` from an RBAC table
 * (./rbac.ts). It records every request (path, Authorization header, body) and can be told to fail
 * the next reviews with an HTTP status, or be closed (the API server down).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SarSpec } from '../../src/auth/sar.js';
import type { Pki } from '../auth/pki.js';
import { type RbacTable, rbacDecide } from './rbac.js';

export interface RecordedReview {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: { apiVersion: string; kind: string; spec: Record<string, unknown> };
}

/** What the API server knows of a token: the user of `status.user`, or an error (`status.error`). */
export type KnownToken =
  | { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }
  | { error: string };

export interface FakeApiServer {
  readonly url: string;
  readonly requests: RecordedReview[];
  tokenReviews(): RecordedReview[];
  accessReviews(): RecordedReview[];
  /** The next `n` requests are answered with `status` (500: etcd down) instead. */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

export const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export async function startFakeApiServer(
  pki: Pki,
  tokens: Readonly<Record<string, KnownToken>>,
  rbac: RbacTable = {},
): Promise<FakeApiServer> {
  const requests: RecordedReview[] = [];
  let failing = 0;
  let failStatus = 500;
  const server: Server = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as RecordedReview['body'];
      requests.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      if (failing > 0) {
        failing--;
        res.writeHead(failStatus, { 'content-type': 'application/json' });
        res.end(
          '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcdserver: request timed out"}',
        );
        return;
      }
      let status: Record<string, unknown>;
      if (req.url === TOKEN_REVIEWS) {
        const known = tokens[String(body.spec.token)];
        status =
          known === undefined
            ? { authenticated: false, user: {} } // the API server's answer to an unknown token
            : 'error' in known
              ? { authenticated: false, user: {}, error: known.error }
              : { authenticated: true, user: known, audiences: ['https://kubernetes.default.svc'] };
      } else if (req.url === ACCESS_REVIEWS) {
        status = { allowed: rbacDecide(rbac, body.spec as SarSpec) };
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"kind":"Status","status":"Failure","reason":"NotFound"}');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...body, status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    tokenReviews: () => requests.filter((r) => r.path === TOKEN_REVIEWS),
    accessReviews: () => requests.filter((r) => r.path === ACCESS_REVIEWS),
    failNext(n, status = 500) {
      failing = n;
      failStatus = status;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
