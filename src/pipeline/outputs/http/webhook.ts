/**
 * @module The `webhook` output: each batch as one JSON array, POSTed (or PUT) to `url`:
 * `[{"timestamp":"2024-05-01T10:00:00.123456789Z","labels":{...},"attributes":{...},"body":"..."}]`
 * (record-json.ts), `Content-Type: application/json`. Any 2xx acknowledges the batch.
 *
 * Options: `url`, `method` (POST or PUT, default POST), and the shared HTTP options (common.ts):
 * `headers`, `bearerToken`, `bearerTokenFile`, `basicAuth`, `tls`, `timeout`.
 */

import type { Options } from '../../../config/options.js';
import type { LogRecord } from '../../../model/record.js';
import type { OutputContext, OutputFactory } from '../output.js';
import { type HttpSettings, readHttpSettings } from './common.js';
import { HttpOutput } from './http-output.js';
import { recordJson } from './record-json.js';

class WebhookOutput extends HttpOutput {
  constructor(
    name: string,
    settings: HttpSettings,
    private readonly method: 'POST' | 'PUT',
  ) {
    super(name, 'webhook', settings);
  }

  protected async sendBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    const body = Buffer.from(JSON.stringify(records.map(recordJson)), 'utf8');
    await this.request(this.method, this.settings.url, { 'content-type': 'application/json' }, body, signal);
  }
}

export const webhookOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx);
  const method = o.oneOf('method', ['POST', 'PUT'] as const, 'POST');
  o.done();
  return new WebhookOutput(name, settings, method);
};
