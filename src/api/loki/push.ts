/**
 * @module POST /loki/api/v1/push: decode (JSON or protobuf+snappy, gzip/deflate), validate with
 * Loki's limits, store durably, then answer 204. As in Loki's distributor, valid entries of a
 * partially invalid request are stored and the answer is a 400 that lists what was refused.
 * The records go through the journal (src/journal/journal.ts): with a pipeline configured, the flows
 * decide what the local store keeps.
 * Both answers carry what became of the entries (formats/entry-counts.ts: stored, duplicate,
 * refused by reason), which `kjournal import` counts. A push is authorized by what it carries, once
 * decoded and before anything is stored (auth/writes.ts): a refused push is a 403 and stores nothing.
 */

import type { Counter } from 'prom-client';
import { ForbiddenError } from '../../auth/errors.js';
import { requireWrite } from '../../auth/writes.js';
import { entryCountHeaders } from '../../formats/entry-counts.js';
import { type PushLimits, validatePush } from '../../formats/loki-push/index.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { RefusedRecordsError } from '../../journal/errors.js';
import type { Journal } from '../../journal/journal.js';
import { storedRecords } from '../../journal/records.js';
import type { LogClass } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { asHttpError, HttpError } from '../http/errors.js';
import { type Handler, text } from '../http/router.js';
import { readPushBody } from './push-body.js';

/** What the push handler counts (the server's registry has them: server/metrics.ts). */
export interface PushMetrics {
  readonly pushRequests: Counter<'format'>;
  readonly rejectedRequests: Counter<'reason'>;
  readonly discardedLines: Counter<'reason'>;
}

export interface PushOptions {
  readonly journal: Journal;
  readonly metrics: PushMetrics;
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  /** Entries (and streams) per push; DEFAULT_MAX_PUSH_ENTRIES when absent. */
  readonly maxEntries?: number;
  readonly now?: () => bigint;
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
      // Labels normalised once per stream, in place; a stream of another class than the path's refuses all.
      const records = storedRecords(raw, classRestriction as LogClass | undefined);
      await requireWrite(access, records);
      const ingested = await opts.journal.write(tenant, records, { knownBytes: lineBytes });
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
      const http = asHttpError(err);
      const reason =
        http !== undefined
          ? String(http.status)
          : err instanceof RefusedRecordsError
            ? '400'
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
