/**
 * @module The `loki` output: Loki's push API (`POST <url>/loki/api/v1/push`, protobuf + snappy).
 *
 * Options: `url` (base URL), `tenant` (X-Scope-OrgID), `labels` (static labels), `labelsFrom`
 * (label name → record field: an attribute name, or `labels.x`), `keepLabels` (keep the record's
 * own labels, default true), `structuredMetadata` (send the attributes as structured metadata,
 * default true), `path` (default /loki/api/v1/push), plus the shared HTTP options (common.ts):
 * `headers`, `bearerToken`, `bearerTokenFile`, `basicAuth`, `tls`, `timeout`.
 *
 * 204/2xx is success; 429 and 5xx are retryable; other 4xx (out of order, too old, line too long,
 * bad labels) reject the batch with Loki's message. The `kjournal` output (kjournal.ts) is this
 * one with a kjournal server's defaults.
 */

import type { Options } from '../../../config/options.js';
import { isValidLabelName } from '../../../ingest/loki-push/labels.js';
import type { LogRecord } from '../../../model/record.js';
import type { OutputContext, OutputFactory } from '../output.js';
import { type HttpSettings, joinPath, readHttpSettings } from './common.js';
import { HttpOutput } from './http-output.js';
import { KEEP_ALL, type LokiMapping, pushBody } from './loki-wire.js';

export const LOKI_PUSH_PATH = '/loki/api/v1/push';

export class LokiOutput extends HttpOutput {
  private readonly pushUrl: URL;

  constructor(
    name: string,
    type: string,
    settings: HttpSettings,
    private readonly mapping: LokiMapping,
    private readonly tenant: string | undefined,
    path: string,
  ) {
    super(name, type, settings);
    this.pushUrl = joinPath(settings.url, path);
  }

  protected async sendBatch(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    const body = pushBody(records, this.mapping);
    const extra: Record<string, string> = { 'content-type': 'application/x-protobuf' };
    if (this.tenant !== undefined) extra['x-scope-orgid'] = this.tenant;
    await this.request('POST', this.pushUrl, extra, body, signal);
  }
}

function labelName(o: Options, key: string, name: string): string {
  if (!isValidLabelName(name)) {
    throw o.error(key, `label name ${JSON.stringify(name)} is not valid in Loki ([a-zA-Z_][a-zA-Z0-9_]*)`);
  }
  return name;
}

export function readMapping(o: Options): LokiMapping {
  const labels = o.stringMap('labels');
  for (const name of Object.keys(labels)) labelName(o, 'labels', name);
  const labelsFrom = o.stringMap('labelsFrom');
  for (const [name, path] of Object.entries(labelsFrom)) {
    labelName(o, 'labelsFrom', name);
    if (path === '' || path === 'labels.') throw o.error('labelsFrom', `${name}: empty field name`);
  }
  return {
    keepLabels: o.boolean('keepLabels', KEEP_ALL.keepLabels),
    labels,
    labelsFrom,
    structuredMetadata: o.boolean('structuredMetadata', KEEP_ALL.structuredMetadata),
  };
}

export const lokiOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx);
  const tenant = o.optionalString('tenant');
  const mapping = readMapping(o);
  const path = o.string('path', LOKI_PUSH_PATH);
  o.done();
  return new LokiOutput(name, 'loki', settings, mapping, tenant, path);
};
