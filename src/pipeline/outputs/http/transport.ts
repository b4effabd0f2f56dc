/**
 * @module One HTTP(S) request of an output, over node:http/https rather than fetch: a custom CA,
 * a client certificate and skipping verification need a TLS agent. Keep-alive agents are made per
 * protocol on first use and destroyed by `close`. Every failure comes out as an `OutputError`: a
 * network error, an idle timeout or an abort is retryable; statuses are left to the caller, which
 * knows its peer's error bodies.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { networkError, OutputError } from '../output.js';

export interface TlsSettings {
  /** PEM bundle that replaces the system roots. */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecureSkipVerify: boolean;
  readonly serverName?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class HttpTransport {
  private httpAgent: http.Agent | undefined;
  private httpsAgent: https.Agent | undefined;
  private closed = false;

  constructor(
    /** How messages name the peer: `loki http://host:3100`. */
    readonly peer: string,
    private readonly tls: TlsSettings,
    private readonly timeoutMs: number,
  ) {}

  /** Sends one request and reads the whole answer; rejects only with OutputError. */
  request(
    method: string,
    url: URL,
    headers: Readonly<Record<string, string>>,
    body: Buffer | undefined,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    if (signal.aborted) return Promise.reject(aborted(this.peer, signal));
    if (this.closed) return Promise.reject(new OutputError(`${this.peer}: output is closed`, true));
    const secure = url.protocol === 'https:';
    const agent = secure ? this.secureAgent() : this.plainAgent();
    const h: http.OutgoingHttpHeaders = { 'user-agent': 'kjournal', ...lower(headers) };
    if (body !== undefined) h['content-length'] = body.length;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? aborted(this.peer, signal) : networkError(this.peer, err));
      };
      const req = (secure ? https : http).request(url, { method, agent, headers: h }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      const onAbort = () => req.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(new Error(`no answer in ${this.timeoutMs / 1000}s`));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.closed = true;
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
  }

  private plainAgent(): http.Agent {
    this.httpAgent ??= new http.Agent({ keepAlive: true });
    return this.httpAgent;
  }

  private secureAgent(): https.Agent {
    const t = this.tls;
    this.httpsAgent ??= new https.Agent({
      keepAlive: true,
      rejectUnauthorized: !t.insecureSkipVerify,
      ...(t.ca !== undefined ? { ca: t.ca } : {}),
      ...(t.cert !== undefined ? { cert: t.cert } : {}),
      ...(t.key !== undefined ? { key: t.key } : {}),
      ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
    });
    return this.httpsAgent;
  }
}

function lower(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** A send cut short by its signal: retryable, the batch stays in the buffer. */
export function aborted(peer: string, signal: AbortSignal): OutputError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
  return new OutputError(`${peer}: send aborted (${reason})`, true, { cause: signal.reason });
}

/** The peer's answer as text, for error messages. */
export function bodyText(res: HttpResponse): string {
  return res.body.toString('utf8');
}
