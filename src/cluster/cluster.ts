/**
 * @module Requests to a Kubernetes API server from a kubeconfig connection, as client-go makes
 * them: a static token, a `tokenFile` re-read every minute (the kubelet rotates service account
 * tokens), an exec credential plugin run again after a 401, or basic auth; the connection's CA,
 * client certificate and server name; a timeout and a cap on the answer's size. Used by the
 * SubjectAccessReview authorizer and the direct pod-log fallback.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { runExecCredential } from './exec-credential.js';
import type { KubeconfigConnection } from './kubeconfig.js';

/** How often a `tokenFile` is read again (client-go's cached token source: one minute). */
export const TOKEN_FILE_REREAD_MS = 60_000;

export interface ClusterClientOptions {
  /** A kubeconfig user's `tokenFile`, read instead of a static token. */
  readonly tokenFile?: string;
  readonly timeoutMs: number;
  /** Answers larger than this are refused (bytes); default 16 MiB. */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

export interface ClusterReply {
  readonly status: number;
  readonly body: string;
}

export class ClusterClient {
  readonly #conn: KubeconfigConnection;
  readonly #tokenFile: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #fileToken: { token: string; read: number } | undefined;
  #execToken: Promise<string | undefined> | undefined;

  constructor(conn: KubeconfigConnection, opts: ClusterClientOptions) {
    this.#conn = conn;
    this.#tokenFile = opts.tokenFile;
    this.#timeoutMs = opts.timeoutMs;
    this.#maxBytes = opts.maxBytes ?? 16 << 20;
    this.#now = opts.now ?? Date.now;
  }

  get server(): string {
    return this.#conn.server;
  }

  /**
   * One request to `path` (below the server's own path). A 401 is retried once with fresh
   * credentials when they can be renewed. Rejects, with a message naming what failed, when the
   * credentials cannot be had or the server cannot be reached; any HTTP status resolves.
   */
  async request(method: 'GET' | 'POST', path: string, body?: string): Promise<ClusterReply> {
    let res = await this.#send(method, path, body, await this.#credential(false));
    const renewable =
      this.#tokenFile !== undefined || (this.#conn.exec !== undefined && this.#conn.token === undefined);
    if (res.status === 401 && renewable)
      res = await this.#send(method, path, body, await this.#credential(true));
    return res;
  }

  async #credential(renew: boolean): Promise<string | undefined> {
    try {
      return await this.#token(renew);
    } catch (err) {
      throw new Error(`credentials for ${this.#conn.server}: ${(err as Error).message}`);
    }
  }

  async #token(renew: boolean): Promise<string | undefined> {
    const conn = this.#conn;
    if (this.#tokenFile !== undefined) {
      const now = this.#now();
      if (renew || this.#fileToken === undefined || now - this.#fileToken.read >= TOKEN_FILE_REREAD_MS) {
        const token = (await readFile(this.#tokenFile, 'utf8')).trim();
        this.#fileToken = { token, read: now };
      }
      return this.#fileToken.token;
    }
    if (conn.token !== undefined || conn.exec === undefined) return conn.token;
    if (renew || this.#execToken === undefined) {
      this.#execToken = runExecCredential(conn.exec).then((c) => c.token);
      this.#execToken.catch(() => {
        this.#execToken = undefined;
      });
    }
    return this.#execToken;
  }

  #send(
    method: string,
    path: string,
    body: string | undefined,
    token: string | undefined,
  ): Promise<ClusterReply> {
    const conn = this.#conn;
    const base = new URL(conn.server);
    const url = new URL(base.pathname.replace(/\/+$/, '') + path, base);
    const headers: Record<string, string> = { Accept: 'application/json, */*', 'User-Agent': 'kjournal' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (token !== undefined && token !== '') headers.Authorization = `Bearer ${token}`;
    else if (conn.username !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`;
    }
    const secure = url.protocol === 'https:';
    const options = {
      method,
      headers,
      timeout: this.#timeoutMs,
      ...(secure
        ? {
            rejectUnauthorized: !conn.insecureSkipTlsVerify,
            ...(conn.ca !== undefined ? { ca: conn.ca } : {}),
            ...(conn.cert !== undefined && conn.key !== undefined ? { cert: conn.cert, key: conn.key } : {}),
            ...(conn.tlsServerName !== undefined ? { servername: conn.tlsServerName } : {}),
          }
        : {}),
    };
    const limit = this.#maxBytes;
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) {
            req.destroy(new Error(`answer larger than ${limit} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(new Error(`${conn.server}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (err) => reject(new Error(`${conn.server} unreachable: ${err.message}`)));
      req.end(body);
    });
  }
}
