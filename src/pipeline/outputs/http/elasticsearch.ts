/**
 * @module The `elasticsearch` output: the `_bulk` API (`POST <url>/_bulk`, NDJSON: an action line
 * `{"create":{"_index":"..."}}` — or `index` — then the document, each line ending in a newline).
 * Documents follow the ViaQ data model (viaq.ts); the index comes from a date-based pattern
 * (es-index.ts, default `kjournal-{kind}-%Y.%m.%d`, in the record's UTC date).
 *
 * The bulk API answers 200 even when documents failed: its `errors` flag and per-item `status` say
 * which. An item with 429 or 5xx makes the whole batch retryable (items that succeeded are sent
 * again: at-least-once); other item errors (a mapping conflict, a bad index name) reject the batch
 * with the first item's `type: reason`. A non-2xx answer maps like any HTTP status.
 *
 * Options: `url` (cluster base URL), `index` (pattern), `action` (`create`, the default, which data
 * streams require, or `index`), `pipeline` (an ingest pipeline), `apiKey` (`Authorization: ApiKey`),
 * and the shared HTTP options (common.ts): `headers`, `bearerToken`, `bearerTokenFile`,
 * `basicAuth`, `tls`, `timeout`.
 */

import type { Options } from '../../../config/options.js';
import type { LogRecord } from '../../../model/record.js';
import { type OutputContext, OutputError, type OutputFactory } from '../output.js';
import { type HttpSettings, joinPath, readHttpSettings } from './common.js';
import { type IndexPattern, indexName, parseIndexPattern } from './es-index.js';
import { HttpOutput } from './http-output.js';
import { bodyText } from './transport.js';
import { viaqDocument } from './viaq.js';

export const DEFAULT_INDEX = 'kjournal-{kind}-%Y.%m.%d';

export type BulkAction = 'create' | 'index';

/** The `_bulk` body of a batch. */
export function bulkBody(records: readonly LogRecord[], pattern: IndexPattern, action: BulkAction): string {
  let out = '';
  for (const r of records) {
    out += `${JSON.stringify({ [action]: { _index: indexName(pattern, r) } })}\n`;
    out += `${JSON.stringify(viaqDocument(r))}\n`;
  }
  return out;
}

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

interface BulkResponse {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

/** Throws the OutputError a bulk response's failed items call for; returns when all succeeded. */
export function checkBulkResponse(peer: string, text: string): void {
  let parsed: BulkResponse;
  try {
    parsed = JSON.parse(text) as BulkResponse;
  } catch {
    throw new OutputError(`${peer}: the bulk response is not JSON: ${text.slice(0, 200)}`, true);
  }
  if (parsed.errors !== true) return;
  const failed: { status: number; reason: string }[] = [];
  for (const item of parsed.items ?? []) {
    const result = Object.values(item)[0];
    if (!result) continue;
    const status = result.status ?? 0;
    if (status >= 200 && status < 300 && result.error === undefined) continue;
    const e = result.error;
    const reason = typeof e === 'string' ? e : `${e?.type ?? 'error'}: ${e?.reason ?? ''}`.trim();
    failed.push({ status, reason });
  }
  if (failed.length === 0) return;
  const total = parsed.items?.length ?? failed.length;
  const retry = failed.find((f) => f.status === 429 || f.status >= 500);
  const shown = retry ?? failed[0]!;
  throw new OutputError(
    `${peer}: ${failed.length} of ${total} documents failed (status ${shown.status}, ${shown.reason})`,
    retry !== undefined,
  );
}

class ElasticsearchOutput extends HttpOutput {
  private readonly url: URL;

  constructor(
    name: string,
    settings: HttpSettings,
    private readonly pattern: IndexPattern,
    private readonly action: BulkAction,
    pipeline: string | undefined,
    private readonly apiKey: string | undefined,
  ) {
    super(name, 'elasticsearch', settings);
    this.url = joinPath(settings.url, '_bulk');
    if (pipeline !== undefined) this.url.searchParams.set('pipeline', pipeline);
  }

  protected async sendBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    const body = Buffer.from(bulkBody(records, this.pattern, this.action), 'utf8');
    const extra: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.apiKey !== undefined) extra.authorization = `ApiKey ${this.apiKey}`;
    const res = await this.request('POST', this.url, extra, body, signal);
    checkBulkResponse(this.peer, bodyText(res));
  }
}

export const elasticsearchOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx);
  const indexText = o.string('index', DEFAULT_INDEX);
  let pattern: IndexPattern;
  try {
    pattern = parseIndexPattern(indexText);
  } catch (err) {
    throw o.error('index', (err as Error).message);
  }
  const action = o.oneOf('action', ['create', 'index'] as const, 'create');
  const pipeline = o.optionalString('pipeline');
  const apiKey = o.optionalString('apiKey');
  if (apiKey !== undefined && settings.credentials.kind !== 'none') {
    throw o.error('apiKey', 'give one of apiKey, bearerToken, bearerTokenFile and basicAuth');
  }
  o.done();
  return new ElasticsearchOutput(name, settings, pattern, action, pipeline, apiKey);
};
