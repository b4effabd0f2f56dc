/**
 * @module `POST /otlp/v1/logs` (Loki 3's path: an otlphttp exporter's endpoint `http://host/otlp`)
 * and `POST /v1/logs` (OTLP/HTTP's default path): OpenTelemetry logs in protobuf
 * (`application/x-protobuf`) or JSON (`application/json`), plain or gzip'd, stored through the
 * receivers' intake (api/receivers/intake.ts), answered only once durable.
 *
 * Answers, as the OTLP/HTTP spec has them: 200 with an `ExportLogsServiceResponse` in the request's
 * encoding; records refused by the limits (too old, too long...) are counted in its
 * `partial_success` (`rejected_log_records` and the reasons in Loki's words), the others stored. A
 * request that cannot be decoded is refused whole with 400 and a `google.rpc.Status` (nothing
 * stored); backpressure is 503 with Retry-After (api/receivers/errors.ts).
 */
import { groupPushErrors } from '../../formats/loki-push/index.js';
import {
  decodeOtlpProto,
  encodeOtlpProtoResponse,
  otlpJsonResponse,
  otlpRecords,
} from '../../formats/otlp/index.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { bodyMediaType } from '../http/body.js';
import { readEncodedBody } from '../http/encoded-body.js';
import { badRequest } from '../http/errors.js';
import type { Handler } from '../http/router.js';
import { otlpJsonRecords } from '../receivers/decode-jobs.js';
import type { DecodePool } from '../receivers/decode-pool.js';
import { checkBodyBounds, scanPlan } from '../receivers/decode-route.js';
import type { Intake } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';

export const OTLP_JSON = 'application/json';
export const OTLP_PROTO_TYPES = ['application/x-protobuf', 'application/protobuf'];

export interface OtlpOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly maxBodyBytes: number;
  /** Log records one request may carry. */
  readonly maxRecords: number;
  readonly now?: () => bigint;
  /** Where large JSON bodies decode (absent or size 0: inline). */
  readonly decodePool?: DecodePool;
}

/** Whether the request is JSON (else protobuf: the route admits only these two). */
export function isOtlpJson(contentType: string | undefined): boolean {
  return contentType === OTLP_JSON;
}

/** The records of a body decoded on the main thread. */
function decodeInline(
  body: Buffer,
  json: boolean,
  maxRecords: number,
  now: bigint,
  labelSets: SetInterner<Labels>,
): RawRecord[] {
  return json
    ? otlpJsonRecords(body, maxRecords, now, labelSets)
    : otlpRecords(decodeOtlpProto(body, maxRecords), { now, labelSets });
}

export function otlpLogsHandler(o: OtlpOptions): Handler {
  const now = o.now ?? nowNs;
  const labelSets = new SetInterner<Labels>();
  return async ({ req, access }) => {
    const type = bodyMediaType(req);
    const json = isOtlpJson(type);
    if (type === undefined)
      throw badRequest('missing Content-Type: send application/x-protobuf or application/json');
    let wire = 0;
    let items: RawRecord[];
    let lineBytes: Uint32Array | undefined;
    const t = now();
    try {
      // Bounds: see decode-route.ts (none for a body of up to 1 MiB sent as is).
      const plan = json ? scanPlan(o.decodePool, req) : 'none';
      const body = await readEncodedBody(req, {
        maxBodyBytes: o.maxBodyBytes,
        json: plan === 'reading',
        onWireBytes: (n) => {
          wire = n;
        },
      });
      const pooled = json
        ? o.decodePool?.decode(
            { kind: 'otlp-json', maxRecords: o.maxRecords, now: t, checkBounds: plan === 'after' },
            body,
            labelSets,
          )
        : undefined;
      if (pooled) {
        ({ records: items, lineBytes } = await pooled);
      } else {
        if (plan === 'after') checkBodyBounds(body);
        items = decodeInline(body, json, o.maxRecords, t, labelSets);
      }
    } catch (err) {
      o.counter.count('refused', 0, wire);
      throw err;
    }
    const result = await o.intake.write({ access, records: items, counter: o.counter, lineBytes });
    const errors: string[] = [];
    for (const r of result.refusals) if (r) errors.push(r.message);
    const message = errors.length > 0 ? groupPushErrors(errors) : '';
    return json
      ? {
          status: 200,
          headers: { 'content-type': OTLP_JSON },
          body: otlpJsonResponse(result.refused, message),
        }
      : {
          status: 200,
          headers: { 'content-type': 'application/x-protobuf' },
          body: encodeOtlpProtoResponse(result.refused, message),
        };
  };
}
