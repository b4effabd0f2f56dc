/**
 * @module The `kjournal` output: another kjournal server, over the same Loki push wire format
 * (protobuf + snappy to `<url>/loki/api/v1/push`). A kjournal server keeps kjournal's labels as they
 * are, so this output sends every record's labels and attributes unchanged: no label mapping options.
 *
 * Options: `url`, `tenant` (X-Scope-OrgID), and the shared HTTP options (common.ts): `headers`,
 * `bearerToken`, `bearerTokenFile` (e.g. a service account token), `basicAuth`, `tls`, `timeout`.
 */
import type { Options } from '../../../config/options.js';
import type { OutputContext, OutputFactory } from '../output.js';
import { readHttpSettings } from './common.js';
import { LOKI_PUSH_PATH, LokiOutput } from './loki.js';
import { KEEP_ALL } from './loki-wire.js';

export const kjournalOutput: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const settings = readHttpSettings(o, ctx);
  const tenant = o.optionalString('tenant');
  o.done();
  return new LokiOutput(name, 'kjournal', settings, KEEP_ALL, tenant, LOKI_PUSH_PATH);
};
