/**
 * @module The `webhook` output: each batch as one JSON array, POSTed (or PUT) to `url`:
 * `[{"timestamp":"2024-05-01T10:00:00.123456789Z","labels":{...},"attributes":{...},"body":"..."}]`
 * (record-json.ts), `Content-Type: application/json`. Any 2xx acknowledges the batch.
 *
 * Options: `url`, `method` (POST or PUT, default POST), and the shared HTTP options (common.ts):
 * `headers`, `bearerToken`, `bearerTokenFile`, `basicAuth`, `tls`, `timeout`.
 */
import type { LogRecord } from '../../model/record.js';
import type { Options } from '../../pipeline/options.js';
import { httpStatusError, type Output, type OutputContext, type OutputFactory } from '../output.js';
import { type HttpSettings, peerName, readHttpSettings, requestHeaders } from './common.js';
import { recordJson } from './record-json.js';
import { aborted, bodyText, HttpTransport } from './transport.js';

class WebhookOutput implements Output {
  readonly type = 'webhook';
  private readonly transport: HttpTransport;
  private readonly peer: string;

  constructor(
    readonly name: string,
    private readonly settings: HttpSettings,
    private readonly method: 'POST' | 'PUT',
  ) {
    this.peer = peerName(this.type, name, settings.url);
    this.transport = new HttpTransport(this.peer, settings.tls, settings.timeoutMs);
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw aborted(this.peer, signal);
    if (records.length === 0) return;
    const body = Buffer.from(JSON.stringify(records.map(recordJson)), 'utf8');
    const headers = await requestHeaders(this.peer, this.settings, { 'content-type': 'application/json' });
    const res = await this.transport.request(this.method, this.settings.url, headers, body, signal);
    if (res.status < 200 || res.status >= 300) throw httpStatusError(this.peer, res.status, bodyText(res));
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export const webhookOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx);
  const method = o.oneOf('method', ['POST', 'PUT'] as const, 'POST');
  o.done();
  return new WebhookOutput(name, settings, method);
};
