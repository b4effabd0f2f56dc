/**
 * @module The `splunk` output: Splunk's HTTP Event Collector, `POST <url>/services/collector/event`
 * with `Authorization: Splunk <token>`. A batch is its events as JSON objects written one after
 * the other (HEC's batch format, no array, no commas):
 * `{"time":1700000000.123456,"host":"node-1","source":"...","sourcetype":"...","index":"...",
 * "event":"<the body>","fields":{<labels and attributes>}}` — time in epoch seconds with a
 * fraction (microseconds), `host` the record's node unless `host` is set, `fields` indexed fields.
 *
 * HEC answers `{"text":"Success","code":0}`; errors carry `{"text","code"}` and map by status: 400
 * (no data, invalid data format, incorrect index...) and 401/403 (token required, invalid token,
 * token disabled) reject the batch; 503 (server busy, queues full) and other 5xx are retried.
 *
 * Options: `url` (HEC base URL, e.g. https://splunk:8088), `token` or `tokenFile`, `index`,
 * `source`, `sourcetype`, `host`, and the shared `headers`, `tls`, `timeout` (common.ts).
 */
import { resolve } from 'node:path';
import type { Options } from '../../../config/options.js';
import { kubeMeta } from '../../../model/kube-meta.js';
import type { LogRecord } from '../../../model/record.js';
import type { OutputContext, OutputFactory } from '../output.js';
import { type HttpSettings, joinPath, readHttpSettings, readSecret } from './common.js';
import { HttpOutput } from './http-output.js';

export const HEC_EVENT_PATH = '/services/collector/event';

export interface HecMetadata {
  readonly index?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly host?: string;
}

/** Epoch seconds with six decimals, written exactly from the nanoseconds. */
export function hecTime(ns: bigint): string {
  const us = ns / 1000n;
  const sec = us / 1_000_000n;
  let frac = us % 1_000_000n;
  let whole = sec;
  if (frac < 0n) {
    frac += 1_000_000n;
    whole -= 1n;
  }
  return `${whole}.${frac.toString().padStart(6, '0')}`;
}

/** One HEC event object, as text (its `time` is a JSON number written exactly). */
export function hecEvent(r: LogRecord, m: HecMetadata): string {
  const host = m.host ?? kubeMeta(r.labels).node;
  const rest: Record<string, unknown> = {};
  if (host !== undefined) rest.host = host;
  if (m.source !== undefined) rest.source = m.source;
  if (m.sourcetype !== undefined) rest.sourcetype = m.sourcetype;
  if (m.index !== undefined) rest.index = m.index;
  rest.event = r.body;
  rest.fields = { ...r.attributes, ...r.labels };
  return `{"time":${hecTime(r.timestamp)},${JSON.stringify(rest).slice(1)}`;
}

/** HEC's error text and code (`Invalid token (code 4)`), else the raw body. */
function hecReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { text?: unknown; code?: unknown };
    if (typeof parsed.text === 'string') {
      return typeof parsed.code === 'number' ? `${parsed.text} (code ${parsed.code})` : parsed.text;
    }
  } catch {
    // not JSON: the body as it is
  }
  return text;
}

class SplunkOutput extends HttpOutput {
  private readonly url: URL;

  constructor(
    name: string,
    settings: HttpSettings,
    private readonly token: { value?: string; file?: string },
    private readonly meta: HecMetadata,
  ) {
    super(name, 'splunk', settings);
    this.url = joinPath(settings.url, HEC_EVENT_PATH);
  }

  protected async sendBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    const body = Buffer.from(records.map((r) => hecEvent(r, this.meta)).join(''), 'utf8');
    const extra = {
      'content-type': 'application/json',
      authorization: `Splunk ${this.token.value ?? (await readSecret(this.peer, this.token.file ?? ''))}`,
    };
    await this.request('POST', this.url, extra, body, signal, hecReason);
  }
}

export const splunkOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx, false);
  const value = o.optionalString('token');
  const file = o.optionalString('tokenFile');
  if ((value === undefined) === (file === undefined))
    throw o.error('token', 'give one of token and tokenFile');
  const meta: HecMetadata = {
    index: o.optionalString('index'),
    source: o.optionalString('source'),
    sourcetype: o.optionalString('sourcetype'),
    host: o.optionalString('host'),
  };
  o.done();
  return new SplunkOutput(
    name,
    settings,
    value !== undefined ? { value } : { file: resolve(ctx.baseDir, file ?? '') },
    meta,
  );
};
