/**
 * @module The Elasticsearch API's routes: bulk and single-document writes (api/elasticsearch/bulk.ts,
 * refused before they are read while the disk is full or writes queue: api/receivers/intake.ts) and the probes shippers send
 * first (api/elasticsearch/probes.ts). Errors in Elasticsearch's form (api/elasticsearch/errors.ts).
 */
import type { ErrorHandler, Router } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { type BulkOptions, bulkHandler, docHandler } from './bulk.js';
import { esErrorReply } from './errors.js';
import {
  healthHandler,
  licenseHandler,
  nodesHandler,
  rootHandler,
  settingsHandler,
  xpackHandler,
} from './probes.js';

export interface ElasticsearchApiOptions extends BulkOptions {
  /** kjournal's version, shown as the build of the root document. */
  readonly version: string;
}

export function registerElasticsearchApi(router: Router, o: ElasticsearchApiOptions): void {
  const es: ErrorHandler = (err) => esErrorReply(err);
  const bulk = guardWrites(bulkHandler(o), o.intake);
  const doc = guardWrites(docHandler(o), o.intake);
  const GET = ['GET', 'HEAD'];
  const SETTINGS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
  router
    .add(['POST', 'PUT'], '/_bulk', bulk, es)
    .add(['POST', 'PUT'], '/{index}/_bulk', bulk, es)
    .add(['POST'], '/{index}/_doc', doc, es)
    .add(GET, '/', rootHandler(o.version), es)
    .add(GET, '/_license', licenseHandler, es)
    .add(GET, '/_xpack', xpackHandler, es)
    .add(GET, '/_cluster/health', healthHandler, es)
    .add(GET, '/_nodes', nodesHandler, es)
    .add(GET, '/_nodes/{what}', nodesHandler, es);
  for (const prefix of ['/_index_template', '/_template', '/_ilm/policy', '/_ingest/pipeline']) {
    router.add(SETTINGS, `${prefix}/{name}`, settingsHandler, es);
  }
}
