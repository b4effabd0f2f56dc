/**
 * @module `POST /upload`: systemd's journal upload, as `systemd-journal-remote` serves it for
 * `systemd-journal-upload` (its `--url`): a body of `application/vnd.fdo.journal`, the Journal
 * Export Format (binary fields included: formats/journal-export.ts), usually chunked and as long as
 * the journal it uploads. The body is read as it arrives, entries turned into `kind=log` records as
 * the agent's journal source makes them (formats/journal-records.ts; labels `source=journal` and
 * `node` from `_HOSTNAME`), and written through the receivers' intake in batches
 * (api/receivers/intake.ts), reading
 * paused while a batch is written: an upload of any length holds one batch in memory. The answer
 * (200 `OK.`, as journal-remote's) comes once every entry is durable; a broken entry is refused
 * alone (the parser resynchronises at the next entry) and turns the answer into a 400 naming it,
 * so journal-upload reports the failure; entries sent again are de-duplicated by the store.
 *
 * One entry may not exceed the body limit (`--max-body-size`): 413 naming it. Backpressure is 503
 * with Retry-After (api/receivers/errors.ts); on a full disk nothing is read.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { entryCountHeaders } from '../../formats/entry-counts.js';
import { ExportParser } from '../../formats/journal-export.js';
import { entryRecord, journalAttributeSets } from '../../formats/journal-records.js';
import { groupPushErrors } from '../../formats/loki-push/index.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { bodyMediaType } from '../http/body.js';
import { HttpError } from '../http/errors.js';
import type { Handler, RequestContext } from '../http/router.js';
import { text } from '../http/router.js';
import type { Intake, IntakeItem } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';

export const JOURNAL_EXPORT_TYPE = 'application/vnd.fdo.journal';
/** Records written at once: big enough for the store's throughput, small enough for memory. */
const BATCH = 2000;
const MAX_REASONS = 10;

export interface JournalUploadOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  /** The largest one entry may be. */
  readonly maxBodyBytes: number;
  readonly now?: () => bigint;
}

function source(req: IncomingMessage): Readable {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase() ?? '';
  if (encoding === '' || encoding === 'identity') return req;
  if (encoding === 'gzip') return req.pipe(createGunzip());
  if (encoding === 'deflate') return req.pipe(createInflate());
  req.resume();
  throw new HttpError(
    415,
    `unsupported Content-Encoding ${JSON.stringify(encoding)}: send gzip, deflate or identity`,
  );
}

export function journalUploadHandler(o: JournalUploadOptions): Handler {
  const now = o.now ?? nowNs;
  // Across requests (bounded), so that a host's stream keeps one labels object (normalised and
  // checked once by the intake) and a unit's repeated fields (host, unit, identifier, boot) one
  // attributes object (the store's WAL encodes its text once per object).
  const labelsByHost = new Map<string, Labels>();
  const attributeSets = journalAttributeSets();
  return async (ctx: RequestContext) => {
    const { req, access } = ctx;
    if (bodyMediaType(req) !== JOURNAL_EXPORT_TYPE) {
      req.resume();
      throw new HttpError(415, `Content-Type: ${JOURNAL_EXPORT_TYPE} is required.`);
    }
    const parser = new ExportParser();
    const corrupt: string[] = [];
    const refusedByReason: Record<string, number> = {};
    const limitErrors: string[] = [];
    let stored = 0;
    let duplicates = 0;
    let corruptCount = 0;
    let pending: IntakeItem[] = [];
    let sinceEntry = 0;
    let decided = false;

    const flush = async (): Promise<void> => {
      if (pending.length === 0 && decided) return;
      const batch = pending;
      pending = [];
      const result = await o.intake.write({ access, records: batch, counter: o.counter });
      decided = true;
      stored += result.stored;
      duplicates += result.duplicates;
      for (const [reason, n] of Object.entries(result.refusedByReason)) {
        refusedByReason[reason] = (refusedByReason[reason] ?? 0) + n;
      }
      for (const r of result.refusals) if (r && limitErrors.length < MAX_REASONS) limitErrors.push(r.message);
    };
    const take = (items: ReturnType<ExportParser['push']>): void => {
      const observed = now();
      for (const item of items) {
        if ('corrupt' in item) {
          corruptCount++;
          if (corrupt.length < MAX_REASONS) corrupt.push(item.corrupt);
          continue;
        }
        const host = item.entry.get('_HOSTNAME') ?? '';
        let labels = labelsByHost.get(host);
        if (!labels) {
          if (labelsByHost.size >= 10_000) labelsByHost.clear();
          labels = { kind: 'log', source: 'journal', ...(host !== '' ? { node: host } : {}) };
          labelsByHost.set(host, labels);
        }
        const rec = entryRecord(item.entry, { labels, observed, attributeSets });
        if (rec) pending.push(rec);
        else {
          corruptCount++;
          if (corrupt.length < MAX_REASONS) corrupt.push('entry without a valid __REALTIME_TIMESTAMP');
        }
      }
    };

    const body = source(req);
    /**
     * The batch being written. The next one is read and parsed meanwhile, and reading waits (the
     * for-await pulls no more) only when it is full too: one write in flight, one batch held.
     * Waiting for every write before parsing on left the server idle during each fsync, a sixth of
     * an upload's time.
     */
    let writing: Promise<void> | undefined;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        const items = parser.push(chunk);
        sinceEntry = items.length > 0 ? 0 : sinceEntry + chunk.length;
        if (sinceEntry > o.maxBodyBytes) {
          throw new HttpError(
            413,
            `journal entry too large: limit is ${o.maxBodyBytes} bytes (--max-body-size)`,
          );
        }
        take(items);
        if (pending.length >= BATCH) {
          if (writing) await writing;
          writing = flush();
          // Awaited before the next write or at the end; a failure meanwhile is not unhandled.
          writing.catch(() => {});
        }
      }
      take(parser.end());
      if (writing) await writing;
      await flush();
    } catch (err) {
      req.resume();
      if (body !== req) body.resume();
      throw err;
    }
    if (corruptCount > 0) refusedByReason.corrupt = corruptCount;
    const headers = entryCountHeaders({ stored, duplicates, refused: refusedByReason });
    if (corruptCount > 0) {
      o.counter.count('refused', corruptCount, 0);
      const more = corruptCount > corrupt.length ? ` (and ${corruptCount - corrupt.length} more)` : '';
      const reply = text(
        400,
        `${corruptCount} corrupt entries refused: ${corrupt.join('; ')}${more}; the others were stored\n`,
      );
      return { ...reply, headers: { ...reply.headers, ...headers } };
    }
    const note = limitErrors.length > 0 ? ` Refused by the limits: ${groupPushErrors(limitErrors)}` : '';
    const reply = text(200, `OK.${note}\n`);
    return { ...reply, headers: { ...reply.headers, ...headers } };
  };
}
