/**
 * @module What the end-to-end security tests share: the real server over TLS with auth flags, HTTPS
 * requests with a token or a client certificate, kubeconfigs for the real kubectl, ABAC policy
 * files, and Loki pushes as a given user.
 */
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import WebSocket from 'ws';
import type { KeyPair, Pki } from '../auth/pki.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  /** A bearer token. */
  token?: string;
  /** A client certificate. */
  pair?: KeyPair;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

/** One HTTPS request to `url`, trusting `ca`. */
export function httpsCall(url: string, ca: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca,
        method: opts.method ?? 'GET',
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.headers ?? {}),
        },
        ...(opts.pair ? { cert: opts.pair.cert, key: opts.pair.key } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A JSON Loki push of `streams` to `path` (default Loki's) as the token's user. */
export function pushAs(
  server: string,
  ca: string,
  token: string,
  streams: unknown[],
  opts: { path?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return httpsCall(`${server}${opts.path ?? '/loki/api/v1/push'}`, ca, {
    token,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    body: JSON.stringify({ streams }),
  });
}

/** Writes a kubeconfig for `server`, trusting `caFile`, with `user` as the user's YAML flow map. */
export async function writeKubeconfig(
  path: string,
  server: string,
  caFile: string,
  user: string,
): Promise<string> {
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- cluster: {server: "${server}", certificate-authority: "${caFile}"}`,
      '  name: kjournal',
      'contexts:',
      '- context: {cluster: kjournal, user: u}',
      '  name: kjournal',
      'current-context: kjournal',
      'users:',
      '- name: u',
      `  user: ${user}`,
      '',
    ].join('\n'),
  );
  return path;
}

/** ABAC policy lines (kube-apiserver's format) for the given specs. */
export function abacPolicies(specs: readonly Record<string, unknown>[]): string {
  return `${specs
    .map((spec) =>
      JSON.stringify({ apiVersion: 'abac.authorization.kubernetes.io/v1beta1', kind: 'Policy', spec }),
    )
    .join('\n')}\n`;
}

/** Serves `dataDir` over TLS with `pki`'s server certificate and the auth flags `args`. */
export function startTlsServer(
  pki: Pki,
  dataDir: string | undefined,
  args: string[],
): Promise<ServerProcess> {
  return startServerProcess({
    ...(dataDir !== undefined ? { dataDir } : {}),
    args: ['--tls-cert-file', pki.server.certFile, '--tls-private-key-file', pki.server.keyFile, ...args],
  });
}

/**
 * Opens the tail WebSocket at `path` (with its query) and closes it at once: 101 when it opened,
 * else the HTTP status it was refused with, and the first frame or the refusal's body.
 */
export function tailOpen(
  server: string,
  ca: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.replace(/^https/, 'wss')}${path}`, { ca, headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('message', (data) => {
      ws.close();
      resolve({ status: 101, body: String(data) });
    });
    ws.on('open', () => {
      // The history frame comes first when there is history; without any, say so after a moment.
      setTimeout(() => {
        ws.close();
        resolve({ status: 101, body: '' });
      }, 1500);
    });
    ws.on('error', reject);
  });
}
