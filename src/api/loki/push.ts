/**
 * @module POST /loki/api/v1/push: decode (JSON or protobuf+snappy, gzip/deflate), validate with
 * Loki's limits, store durably, then answer 204. As in Loki's distributor, valid entries of a
 * partially invalid request are stored and the answer is a 400 that lists what was refused.
 * With a pipeline configured, the flows decide what the local store keeps (src/journal/ingest.ts).
 * Both answers carry what became of the entries (journal/entry-counts.ts: stored, duplicate,
 * refused by reason), which `kjournal import` counts. A push is authorized by what it carries, once
 * decoded and before anything is stored (auth/writes.ts): a refused push is a 403 and stores nothing.
 */

import { ForbiddenError } from '../../auth/errors.js';
import { requireWrite } from '../../auth/writes.js';
import { type PushLimits, validatePush } from '../../ingest/loki-push/index.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { entryCountHeaders } from '../../journal/entry-counts.js';
import { type IngestDeps, routeRecords, storeRecords } from '../../journal/ingest.js';
import { labelValue } from '../../model/kube-meta.js';
import { normalizeLabels } from '../../model/normalize.js';
import type { Labels, LogClass, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { promLabelsString } from '../../query/metric/labels.js';
import { getOrCreate } from '../../util/maps.js';
import { HttpError } from '../http/errors.js';
import { type Handler, text } from '../http/router.js';
import { readPushBody } from './push-body.js';

export interface PushOptions extends IngestDeps {
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  /** Entries (and streams) per push; DEFAULT_MAX_PUSH_ENTRIES when absent. */
  readonly maxEntries?: number;
  readonly now?: () => bigint;
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
  return async ({ req, classRestriction, access }) => {
    try {
      const tenant = access.tenant;
      const streams = await readPushBody(req, {
        maxBodyBytes: opts.maxBodyBytes,
        maxDecompressedBytes: opts.maxBodyBytes,
        maxEntries: opts.maxEntries,
      });
      const json = req.headers['content-type']?.toLowerCase().startsWith('application/json') ?? false;
      opts.metrics.pushRequests.inc({ format: json ? 'json' : 'protobuf' });
      const { records: raw, refused, status, message, lineBytes } = validatePush(streams, opts.limits, now());
      // The validated records become the stored ones in place (no copy per record): their labels
      // normalised once per stream, attributes always present.
      const normalized = new Map<Labels, Labels>();
      for (const r of raw) {
        r.labels = getOrCreate(normalized, r.labels, () =>
          withClass(r.labels, classRestriction as LogClass | undefined),
        );
        r.attributes ??= {};
      }
      const records = raw as LogRecord[];
      await requireWrite(access, records);
      // Without flows the stored records are the validated ones, whose bytes are counted.
      const ingested = opts.pipeline
        ? await storeRecords(opts, tenant, routeRecords(opts, records))
        : await storeRecords(opts, tenant, records, lineBytes);
      for (const reason in refused) opts.metrics.discardedLines.inc({ reason }, refused[reason]);
      if (status === 422) throw new HttpError(status, message);
      const headers = entryCountHeaders({
        stored: ingested.stored,
        duplicates: ingested.duplicates,
        refused,
      });
      if (status === 204) return { status: 204, headers };
      opts.metrics.rejectedRequests.inc({ reason: String(status) });
      const reply = text(status, `${message}\n`);
      return { ...reply, headers: { ...reply.headers, ...headers } };
    } catch (err) {
      const reason =
        err instanceof HttpError
          ? String(err.status)
          : err instanceof DiskFullError
            ? '507'
            : err instanceof ForbiddenError
              ? '403'
              : 'error';
      opts.metrics.rejectedRequests.inc({ reason });
      throw err;
    }
  };
}
