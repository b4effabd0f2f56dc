/**
 * @module A small HTTP client for a kjournal server over node:http/https (not fetch: a custom CA,
 * client certificates and skipping verification need a TLS agent). One keep-alive agent per client,
 * so a long import reuses its connections.
 */

import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { countLokiRefusals, type EntryCounts, parseEntryCountHeaders } from '../formats/entry-counts.js';
import type { Attributes, Labels } from '../model/record.js';
import { type Connection, credentialHeaders, tlsOptions } from './connection.js';
import { ClientError } from './errors.js';
import { backoffMs, DEFAULT_RETRY, isRetryableError, isRetryableStatus, type RetryPolicy } from './retry.js';

const gzip = promisify(gzipCb);

export const PUSH_PATH = '/loki/api/v1/push';
/** The retention report (at the root, or `<lokiPrefix>/retention/test`). */
export const RETENTION_TEST_PATH = '/api/v1/retention/test';
/** korrel8r's log queries (at the root, or `<lokiPrefix>/korrel8r/logs`). */
export const KORREL8R_PATH = '/api/v1/korrel8r/logs';

export type Query = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  readonly query?: Query | URLSearchParams;
  /** Retry 429, 5xx and connection errors with backoff (default false: callers opt in). */
  readonly retry?: boolean;
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One entry as Loki's JSON push carries it: nanoseconds as a decimal string, the line, metadata. */
export type PushValue = [ts: string, line: string] | [ts: string, line: string, metadata: Attributes];

export interface PushStream {
  readonly stream: Labels;
  readonly values: readonly PushValue[];
}

/** What became of a push's entries. */
export interface PushOutcome extends EntryCounts {
  /** Counted from a plain Loki's messages (no kjournal headers): stored is then sent − refused. */
  readonly estimated: boolean;
  /** The server's words when it refused some (a 400 that stored the rest). */
  readonly message?: string;
}

export interface ClientOptions {
  readonly retry?: Partial<RetryPolicy>;
  /** Per request; an idle socket for this long fails the attempt. */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  /** Told before each wait, e.g. to print "retrying in 2s". */
  readonly onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

/** The server's own reason, on one short line: a Kubernetes Status' message, else the body text. */
export function serverMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
      const m = parsed.message ?? parsed.error;
      if (typeof m === 'string' && m !== '') return oneLine(m);
    } catch {
      // Not JSON after all: fall through to the text.
    }
  }
  return oneLine(text);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length > 300 ? `${flat.slice(0, 300)}...` : flat;
}

export class KjournalClient {
  readonly connection: Connection;
  private readonly agent: http.Agent;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly onRetry: ClientOptions['onRetry'];

  constructor(connection: Connection, options: ClientOptions = {}) {
    this.connection = connection;
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'kjournal';
    this.onRetry = options.onRetry;
    if (connection.server.protocol === 'https:') {
      this.agent = new https.Agent({ keepAlive: true, ...tlsOptions(connection) });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /**
   * The URL of `path` under the server's base path, with `query`. Loki and korrel8r paths go under
   * the connection's `lokiPrefix`, if any (the group's path, through kube-apiserver).
   */
  url(path: string, query?: Query | URLSearchParams): URL {
    const prefix = this.connection.lokiPrefix;
    if (prefix !== undefined) {
      const ns = this.connection.lokiNamespace;
      // Reads may take the namespaced path; a push is served on the cluster path only.
      if (path.startsWith('/loki/') && ns !== undefined && path !== PUSH_PATH) {
        path = `${prefix}/namespaces/${encodeURIComponent(ns)}${path}`;
      } else if (path.startsWith('/loki/')) path = `${prefix}${path}`;
      else if (path === KORREL8R_PATH) path = `${prefix}/korrel8r/logs`;
      else if (path === RETENTION_TEST_PATH) path = `${prefix}/retention/test`;
    }
    const base = this.connection.server;
    const url = new URL(base.href);
    url.pathname = `${base.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    url.search = '';
    if (query instanceof URLSearchParams) {
      url.search = query.toString();
    } else if (query !== undefined) {
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
        else url.searchParams.append(k, String(v));
      }
    }
    return url;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<ClientResponse> {
    const url = this.url(path, options.query);
    if (!options.retry) return this.once(method, url, options);
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= this.policy.attempts;
      let reason: string;
      let retryAfter: number | undefined;
      try {
        const res = await this.once(method, url, options);
        if (!isRetryableStatus(res.status) || last) return res;
        reason = `${res.status} ${serverMessage(res.body)}`.trim();
        const ra = res.headers['retry-after'];
        if (typeof ra === 'string' && /^\d+$/.test(ra)) retryAfter = Number(ra);
      } catch (err) {
        if (!isRetryableError(err) || last) throw err;
        reason = (err as Error).message;
      }
      const delayMs = backoffMs(this.policy, attempt, retryAfter);
      this.onRetry?.({ attempt: attempt + 1, delayMs, reason });
      await sleep(delayMs);
    }
  }

  /**
   * Sends streams as a gzip-compressed Loki JSON push. Retries overload, server and connection errors.
   * A 400 that refused some entries and stored the rest (Loki's validation) is an outcome, counted
   * from the server's `X-Kjournal-Entries-*` headers or, from a plain Loki, its messages. Throws
   * ClientError with the server's message when it rejects the request otherwise (4xx) or stays
   * unavailable.
   */
  async push(streams: readonly PushStream[]): Promise<PushOutcome> {
    let sent = 0;
    for (const s of streams) sent += s.values.length;
    const body = await gzip(Buffer.from(JSON.stringify({ streams }), 'utf8'));
    let res: ClientResponse;
    try {
      res = await this.request('POST', PUSH_PATH, {
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
        retry: true,
      });
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw new ClientError(
        `cannot push to ${this.connection.server.href}: ${(err as Error).message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    const told = parseEntryCountHeaders(res.headers);
    if (res.status >= 200 && res.status < 300) {
      // Loki's 204 means every entry was taken.
      return told
        ? { ...told, estimated: false }
        : { stored: sent, duplicates: 0, refused: {}, estimated: false };
    }
    const msg = serverMessage(res.body);
    if (res.status === 400) {
      if (told) return { ...told, estimated: false, message: msg };
      const refused = countLokiRefusals(res.body.toString('utf8'));
      if (refused !== undefined) {
        let n = 0;
        for (const k in refused) n += refused[k]!;
        return { stored: Math.max(0, sent - n), duplicates: 0, refused, estimated: true, message: msg };
      }
    }
    const what = res.status < 500 && res.status !== 429 ? 'server rejected push' : 'push failed';
    throw new ClientError(`${what}: HTTP ${res.status}${msg ? `: ${msg}` : ''}`, res.status);
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private headers(options: RequestOptions, bodyLength: number | undefined): http.OutgoingHttpHeaders {
    const h: http.OutgoingHttpHeaders = {
      'user-agent': this.userAgent,
      ...credentialHeaders(this.connection),
    };
    if (bodyLength !== undefined) h['content-length'] = bodyLength;
    for (const [k, v] of Object.entries(options.headers ?? {})) h[k.toLowerCase()] = v;
    return h;
  }

  private once(method: string, url: URL, options: RequestOptions): Promise<ClientResponse> {
    const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        { method, agent: this.agent, headers: this.headers(options, body?.length) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        const err = Object.assign(new Error(`no answer from ${url.host} in ${this.timeoutMs / 1000}s`), {
          code: 'ETIMEDOUT',
        });
        req.destroy(err);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
