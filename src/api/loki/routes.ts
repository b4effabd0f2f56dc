/**
 * @module The Loki API's routes: the reads at /loki/api/v1/..., restricted to one class at
 * LokiStack's /api/logs/v1/<class>/loki/api/v1/..., under the group's path for API aggregation
 * (api/loki/aggregated.ts) and restricted to one namespace on its namespaced path; the push (through
 * the journal, refused on a full disk before it is read); delete requests and the retention test.
 * Reads that run a store query wait for query admission first (api/http/admit.ts).
 */

import type { PushLimits } from '../../formats/loki-push/index.js';
import type { Journal } from '../../journal/journal.js';
import type { QueryAdmission } from '../../query/admission.js';
import type { MetricLimits } from '../../query/metric/index.js';
import { admitted } from '../http/admit.js';
import { FORM_TYPE } from '../http/body.js';
import { HttpError } from '../http/errors.js';
import type { ErrorHandler, Handler, Router } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { GROUP_LOKI_PATH, GROUP_PATH, NAMESPACED_LOKI_PATH, namespacedHandler } from './aggregated.js';
import { type DeleteOptions, deleteHandler } from './delete.js';
import { detectedFieldsHandler } from './detected-fields.js';
import { detectedLabelsHandler } from './detected-labels.js';
import { type DrilldownLimitsOptions, drilldownLimitsHandler } from './drilldown-limits.js';
import { lokiErrorReply } from './errors.js';
import { formatQueryHandler, keepOriginalQuery } from './format-query.js';
import { LOKISTACK_CLASSES, lokiStackPath, restrictHandler } from './lokistack.js';
import {
  buildInfoHandler,
  indexStatsHandler,
  indexVolumeHandler,
  indexVolumeRangeHandler,
  labelsHandler,
  labelValuesHandler,
  seriesHandler,
} from './metadata.js';
import { patternsHandler } from './patterns.js';
import { type PushMetrics, pushHandler } from './push.js';
import { type QueryMetrics, type QueryOptions, queryHandler, queryRangeHandler } from './query.js';
import { logRead } from './read-access.js';
import { type RetentionTestOptions, retentionTestHandler } from './retention-test.js';

export interface LokiApiOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: QueryOptions['queries'];
  readonly journal: Journal;
  readonly metrics: PushMetrics & QueryMetrics;
  readonly admission: QueryAdmission;
  readonly deleteRequests: DeleteOptions['requests'];
  readonly retentionPolicy: RetentionTestOptions['policy'];
  /** kjournal's version, for /status/buildinfo. */
  readonly version: string;
  readonly maxEntriesLimit: number;
  readonly queryTimeoutMs: number;
  readonly metricLimits: MetricLimits;
  readonly retention?: DrilldownLimitsOptions['retention'];
  readonly retentionStreams?: DrilldownLimitsOptions['retentionStreams'];
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  readonly maxPushEntries?: number;
}

/**
 * What a push body may be. Loki reads every type but JSON as protobuf and so never answers 415; a
 * form (curl's default), text or multipart body is never a push, and is refused at once with 415.
 * `application/protobuf` and `application/octet-stream` are read as protobuf, as Loki would.
 */
const PUSH_TYPES = [
  'application/json',
  'application/x-protobuf',
  'application/protobuf',
  'application/octet-stream',
];

/** A plain GET of the tail endpoint: Loki's tail is a WebSocket. */
const tailWithoutUpgrade: Handler = async () => {
  throw new HttpError(400, 'bad request: /loki/api/v1/tail is a WebSocket endpoint: send an Upgrade request');
};

export function registerLokiApi(router: Router, o: LokiApiOptions): void {
  const loki: ErrorHandler = (err) => lokiErrorReply(err);
  const queryOpts = {
    queries: o.queries,
    metrics: o.metrics,
    maxEntriesLimit: o.maxEntriesLimit,
    queryTimeoutMs: o.queryTimeoutMs,
    metricLimits: o.metricLimits,
  };
  /** A read handler that runs a store query: it waits for admission first. */
  const query = (handler: Handler): Handler => admitted(o.admission, o.queryTimeoutMs, handler);
  const GET_POST = ['GET', 'POST'];
  // The read endpoints of Loki's API, served at /loki/api/v1/..., restricted to one class at
  // LokiStack's /api/logs/v1/<class>/loki/api/v1/..., and under the group's path for API
  // aggregation (api/loki/aggregated.ts), restricted to one namespace on its namespaced path.
  const lokiReads: [readonly string[], string, Handler][] = [
    [GET_POST, '/query_range', query(queryRangeHandler(queryOpts))],
    [GET_POST, '/query', query(queryHandler(queryOpts))],
    [GET_POST, '/labels', query(labelsHandler({ queries: o.queries }))],
    [GET_POST, '/label', query(labelsHandler({ queries: o.queries }))],
    [GET_POST, '/label/{name}/values', query(labelValuesHandler({ queries: o.queries }))],
    [GET_POST, '/series', query(seriesHandler({ queries: o.queries }))],
    [GET_POST, '/index/stats', query(indexStatsHandler({ queries: o.queries }))],
    [GET_POST, '/index/volume', query(indexVolumeHandler({ queries: o.queries }))],
    [GET_POST, '/index/volume_range', query(indexVolumeRangeHandler({ queries: o.queries }))],
    [GET_POST, '/detected_fields', query(detectedFieldsHandler({ queries: o.queries }))],
    // Grafana's Logs Drilldown; the last two run no store query, so they are not queued.
    [GET_POST, '/patterns', query(patternsHandler({ queries: o.queries }))],
    [GET_POST, '/detected_labels', query(detectedLabelsHandler({ queries: o.queries }))],
    [
      ['GET'],
      '/drilldown-limits',
      drilldownLimitsHandler({
        ...queryOpts,
        ...(o.retention === undefined ? {} : { retention: o.retention }),
        ...(o.retentionStreams === undefined ? {} : { retentionStreams: o.retentionStreams }),
      }),
    ],
    [GET_POST, '/format_query', formatQueryHandler()],
    [['GET'], '/status/buildinfo', buildInfoHandler(o.version)],
    [['GET'], '/tail', tailWithoutUpgrade],
  ];
  // Loki's read endpoints take their parameters in the URL or in a POSTed form (Go's ParseForm).
  const readBodies = { form: true, bodyTypes: [FORM_TYPE] };
  for (const [methods, path, unchecked] of lokiReads) {
    // Each read is authorized before it is queued (api/loki/read-access.ts); buildinfo is a
    // non-resource path, decided by the gate.
    const handler = path === '/status/buildinfo' ? unchecked : logRead(unchecked);
    // format_query prints the query as sent, not as restricted on its way (api/loki/format-query.ts).
    const sent = path === '/format_query' ? keepOriginalQuery : (h: Handler) => h;
    router.add(methods, `/loki/api/v1${path}`, sent(handler), loki, readBodies);
    router.add(methods, `${GROUP_LOKI_PATH}${path}`, sent(handler), loki, readBodies);
    router.add(methods, `${NAMESPACED_LOKI_PATH}${path}`, sent(namespacedHandler(handler)), loki, readBodies);
    for (const cls of LOKISTACK_CLASSES) {
      const restricted = sent(restrictHandler(handler, cls));
      router.add(methods, lokiStackPath(cls, `/loki/api/v1${path}`), restricted, loki, readBodies);
    }
  }
  // Writes pause while the data volume is (nearly) full; reads go on.
  const guarded = (h: Handler): Handler =>
    guardWrites(h, o.journal, () => o.metrics.rejectedRequests.inc({ reason: '507' }));
  const push = guarded(
    pushHandler({
      journal: o.journal,
      metrics: o.metrics,
      limits: o.limits,
      maxBodyBytes: o.maxBodyBytes,
      ...(o.maxPushEntries === undefined ? {} : { maxEntries: o.maxPushEntries }),
    }),
  );
  const pushBodies = { bodyTypes: PUSH_TYPES };
  for (const cls of LOKISTACK_CLASSES) {
    router.add(
      ['POST'],
      lokiStackPath(cls, '/loki/api/v1/push'),
      restrictHandler(push, cls),
      loki,
      pushBodies,
    );
  }
  const deletes = deleteHandler({ requests: o.deleteRequests, queries: o.queries });
  const retentionBodies = {
    bodyTypes: ['application/json', 'application/yaml', 'application/x-yaml', 'text/plain'],
  };
  const retentionTest = retentionTestHandler({ queries: o.queries, policy: o.retentionPolicy });
  router
    .add(['GET', 'POST', 'DELETE'], '/loki/api/v1/delete', deletes, loki, readBodies)
    .add(['GET', 'POST', 'DELETE'], `${GROUP_LOKI_PATH}/delete`, deletes, loki, readBodies)
    .add(['GET', 'POST'], '/api/v1/retention/test', retentionTest, loki, retentionBodies)
    .add(['GET', 'POST'], `${GROUP_PATH}/retention/test`, retentionTest, loki, retentionBodies)
    .add(['POST'], '/loki/api/v1/push', push, loki, pushBodies)
    .add(['POST'], `${GROUP_LOKI_PATH}/push`, push, loki, pushBodies);
}
