/**
 * @module POST /loki/api/v1/push: decode (JSON or protobuf+snappy, gzip/deflate), validate with
 * Loki's limits, store durably, then answer 204. As in Loki's distributor, valid entries of a
 * partially invalid request are stored and the answer is a 400 that lists what was refused.
 */

import { decodePushBody, type PushLimits, validatePush } from '../../ingest/loki-push/index.js';
import { labelValue } from '../../model/kube-meta.js';
import { normalizeLabels } from '../../model/normalize.js';
import type { Labels, LogClass, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { promLabelsString } from '../../query/metric/labels.js';
import type { ServerMetrics } from '../../server/metrics.js';
import type { TailHub } from '../../server/tail-hub.js';
import { InvalidEntryError, type Store } from '../../store/store.js';
import { getOrCreate } from '../../util/maps.js';
import { readBody } from '../http/body.js';
import { HttpError } from '../http/errors.js';
import type { Handler } from '../http/router.js';
import { tenantOf } from './tenant.js';

export interface PushOptions {
  readonly store: Store;
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  readonly metrics: ServerMetrics;
  readonly now?: () => bigint;
  /** Live tails: records are published here once the store acknowledged them. */
  readonly tailHub?: TailHub;
}

/**
 * The stored labels of a pushed stream. On a LokiStack path (`/api/logs/v1/<class>/...`) a stream
 * without a class of its own takes the path's; one that names or implies another class is refused.
 */
function withClass(raw: Labels, cls: LogClass | undefined): Labels {
  if (cls === undefined) return normalizeLabels(raw);
  const labels = normalizeLabels(labelValue(raw, 'class') === undefined ? { ...raw, class: cls } : raw);
  if (labels.class !== cls) {
    throw new HttpError(
      400,
      `stream ${promLabelsString(raw)} is of class "${labels.class}", not "${cls}" as the path says; nothing was stored`,
    );
  }
  return labels;
}

export function pushHandler(opts: PushOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, classRestriction }) => {
    try {
      const tenant = tenantOf(req.headers['x-scope-orgid']);
      const body = await readBody(req, opts.maxBodyBytes);
      const streams = decodePushBody(body, req.headers['content-type'], req.headers['content-encoding'], {
        maxBodyBytes: opts.maxBodyBytes,
        maxDecompressedBytes: opts.maxBodyBytes,
      });
      const json = req.headers['content-type']?.toLowerCase().startsWith('application/json') ?? false;
      opts.metrics.pushRequests.inc({ format: json ? 'json' : 'protobuf' });
      const { records: raw, errors, status, message } = validatePush(streams, opts.limits, now());
      const normalized = new Map<Labels, Labels>();
      const records: LogRecord[] = raw.map((r) => {
        const labels = getOrCreate(normalized, r.labels, () =>
          withClass(r.labels, classRestriction as LogClass | undefined),
        );
        return {
          timestamp: r.timestamp,
          observedTimestamp: r.observedTimestamp,
          labels,
          attributes: r.attributes ?? {},
          body: r.body,
        };
      });
      let appended: Awaited<ReturnType<typeof opts.store.append>>;
      try {
        appended = await opts.store.append(tenant, records);
      } catch (err) {
        if (err instanceof InvalidEntryError) throw new HttpError(400, err.message, { cause: err });
        throw err;
      }
      opts.tailHub?.publish(tenant, records, appended?.firstSeq);
      let bytes = 0;
      for (const r of records) bytes += Buffer.byteLength(r.body);
      opts.metrics.ingestedLines.inc({ tenant }, records.length);
      opts.metrics.ingestedBytes.inc({ tenant }, bytes);
      if (errors.length > 0) opts.metrics.discardedLines.inc({ reason: 'validation' }, errors.length);
      if (status !== 204) throw new HttpError(status, message);
      return { status: 204 };
    } catch (err) {
      opts.metrics.rejectedRequests.inc({ reason: err instanceof HttpError ? String(err.status) : 'error' });
      throw err;
    }
  };
}
