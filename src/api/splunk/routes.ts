/**
 * @module Splunk's HTTP Event Collector on the server's HTTP port, for Splunk logging libraries,
 * Vector's and Fluent Bit's `splunk` outputs and the OpenTelemetry Collector's splunk_hec exporter:
 * - `POST /services/collector/event` (also `/services/collector` and `/services/collector/event/1.0`,
 *   the path splunk-logging uses): JSON events (formats/splunk-hec/);
 * - `POST /services/collector/raw` (and `/raw/1.0`): text, one event per line;
 * - `GET /services/collector/health`: `{"text":"HEC is healthy","code":17}` (503 code 9 while busy);
 * - `POST /services/collector/ack`: the indexer acknowledgement channel (api/splunk/acks.ts).
 * The token is `Authorization: Splunk <token>`, looked up in `--token-auth-file` like a bearer token
 * (auth/authenticate.ts); the tenant is X-Scope-OrgID. Answers are HEC's JSON `{"text","code"}`:
 * 200 code 0 once the events are durable (with `ackId` when a channel was given), 400 with HEC's
 * code and `invalid-event-number` for a malformed event (nothing of the request is stored), 413
 * past `--max-body-size`, 403 when the user may not create the records, 503 code 9 "Server is busy"
 * with Retry-After while the journal is busy or the disk full.
 */
import { ForbiddenError } from '../../auth/errors.js';
import { FormatError } from '../../formats/errors.js';
import { decodeHecRaw, HecFormatError, HecLabels, hecRecord } from '../../formats/splunk-hec/decode.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { RefusedRecordsError } from '../../journal/errors.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { readEncodedBody } from '../http/encoded-body.js';
import { asHttpError } from '../http/errors.js';
import type { Handler, Reply, Router } from '../http/router.js';
import { hecEventRecords } from '../receivers/decode-jobs.js';
import type { DecodePool } from '../receivers/decode-pool.js';
import { admitAndReadBody } from '../receivers/http-body.js';
import { type Intake, ReceiverBusyError } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';
import { HecAcks } from './acks.js';

export interface HecOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly maxBodyBytes: number;
  /** Events in one request at most (the server's --max-push-entries). */
  readonly maxEvents: number;
  /** Where large `/event` bodies decode (absent or size 0: inline). */
  readonly decodePool?: DecodePool;
}

const hec = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

/** HEC's answer for an error of a request (see the module comment). */
export function hecErrorReply(err: unknown): Reply {
  if (err instanceof HecFormatError) {
    return hec(400, {
      text: err.message,
      code: err.hecCode,
      ...(err.invalidEventNumber !== undefined ? { 'invalid-event-number': err.invalidEventNumber } : {}),
    });
  }
  if (err instanceof DiskFullError || err instanceof ReceiverBusyError) {
    return hec(503, { text: 'Server is busy', code: 9 }, { 'retry-after': String(err.retryAfterSeconds) });
  }
  if (err instanceof ForbiddenError) return hec(403, { text: err.message, code: 4 });
  if (err instanceof RefusedRecordsError) return hec(400, { text: err.message, code: 6 });
  if (err instanceof FormatError)
    return hec(err.code === 'too-large' ? 413 : 400, { text: err.message, code: 6 });
  const http = asHttpError(err);
  if (http) return hec(http.status, { text: http.message, code: http.status === 413 ? 6 : 6 });
  return hec(500, { text: 'Internal server error', code: 8 });
}

function channelOf(ctx: Parameters<Handler>[0]): string | undefined {
  const h = ctx.req.headers['x-splunk-request-channel'];
  const v = (Array.isArray(h) ? h[0] : h) ?? ctx.url.searchParams.get('channel') ?? undefined;
  return v === undefined || v === '' ? undefined : v;
}

export function registerHecApi(router: Router, o: HecOptions): void {
  const labels = new HecLabels();
  const labelSets = new SetInterner<Labels>();
  const acks = new HecAcks();
  const ingest =
    (raw: boolean): Handler =>
    async (ctx) => {
      let size = 0;
      try {
        const body = await admitAndReadBody(ctx, o.intake, o.maxBodyBytes);
        size = body.length;
        const pooled = raw
          ? undefined
          : o.decodePool?.decode(
              { kind: 'hec-event', maxEvents: o.maxEvents, now: nowNs() },
              body,
              labelSets,
            );
        let records: RawRecord[];
        let lineBytes: Uint32Array | undefined;
        if (pooled) ({ records, lineBytes } = await pooled);
        else if (raw) {
          const events = decodeHecRaw(body.toString('utf8'), ctx.url.searchParams, o.maxEvents);
          const receivedNs = nowNs();
          records = events.map((e, i) => hecRecord(e, labels, receivedNs, i));
        } else records = hecEventRecords(body, o.maxEvents, nowNs(), labels);
        const channel = channelOf(ctx);
        await o.intake.write({ access: ctx.access, records, counter: o.counter, lineBytes });
        return hec(200, {
          text: 'Success',
          code: 0,
          ...(channel !== undefined ? { ackId: acks.issue(channel) } : {}),
        });
      } catch (err) {
        if (err instanceof FormatError || asHttpError(err)) o.counter.count('refused', 0, size);
        throw err;
      }
    };
  const onError = (err: unknown): Reply => hecErrorReply(err);
  for (const path of ['/services/collector', '/services/collector/event', '/services/collector/event/1.0']) {
    router.add(['POST'], path, ingest(false), onError);
  }
  for (const path of ['/services/collector/raw', '/services/collector/raw/1.0']) {
    router.add(['POST'], path, ingest(true), onError);
  }
  router.add(
    ['GET'],
    '/services/collector/health',
    async () =>
      o.intake.busy ? hecErrorReply(new ReceiverBusyError()) : hec(200, { text: 'HEC is healthy', code: 17 }),
    onError,
  );
  router.add(
    ['POST'],
    '/services/collector/ack',
    async (ctx) => {
      await ctx.access.require([]);
      const channel = channelOf(ctx);
      if (channel === undefined) return hec(400, { text: 'Data channel is missing', code: 10 });
      let doc: unknown;
      try {
        doc = JSON.parse((await readEncodedBody(ctx.req, { maxBodyBytes: 1 << 20 })).toString('utf8'));
      } catch (err) {
        if (asHttpError(err)) throw err;
        return hec(400, { text: 'Invalid data format', code: 6 });
      }
      const ids = (doc as { acks?: unknown }).acks;
      if (!Array.isArray(ids)) return hec(400, { text: 'Invalid data format', code: 6 });
      return hec(200, { acks: acks.status(channel, ids as number[]) });
    },
    onError,
  );
}
