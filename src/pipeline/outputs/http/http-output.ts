/**
 * @module What the HTTP outputs configured by the shared options (common.ts) have in common: the
 * peer's name in messages, one keep-alive transport, the checks before a send (aborted, empty
 * batch), one request carrying the configured headers and credentials whose non-2xx answer becomes
 * an `OutputError`, and `close`. Each output only builds its body and names its path and headers.
 */
import type { LogRecord } from '../../../model/record.js';
import { httpStatusError, type Output } from '../output.js';
import { type HttpSettings, peerName, requestHeaders } from './common.js';
import { aborted, bodyText, type HttpResponse, HttpTransport } from './transport.js';

export abstract class HttpOutput implements Output {
  readonly peer: string;
  protected readonly transport: HttpTransport;

  constructor(
    readonly name: string,
    readonly type: string,
    protected readonly settings: HttpSettings,
  ) {
    this.peer = peerName(type, name, settings.url);
    this.transport = new HttpTransport(this.peer, settings.tls, settings.timeoutMs);
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw aborted(this.peer, signal);
    if (records.length === 0) return;
    await this.sendBatch(records, signal);
  }

  /** Sends a batch that is not empty. */
  protected abstract sendBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<void>;

  /**
   * One request with the configured headers, `extra` and the Authorization of the credentials. A
   * non-2xx answer throws `httpStatusError`, with the body as `reason` words it for the message.
   */
  protected async request(
    method: string,
    url: URL,
    extra: Readonly<Record<string, string>>,
    body: Buffer,
    signal: AbortSignal,
    reason: (body: string) => string = (text) => text,
  ): Promise<HttpResponse> {
    const headers = await requestHeaders(this.peer, this.settings, extra);
    const res = await this.transport.request(method, url, headers, body, signal);
    if (res.status < 200 || res.status >= 300)
      throw httpStatusError(this.peer, res.status, reason(bodyText(res)));
    return res;
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
