/**
 * @module `POST /gelf`: one GELF message per request, as Graylog's GELF HTTP input takes it
 * (Content-Encoding gzip or deflate, or a gzip/zlib body recognised by its magic bytes). Answers
 * 202 Accepted once the record is durable; 400 with the reason for a malformed message, 413 past
 * `--max-body-size` (the limit named), 403 when the user may not create the record, 503 with
 * Retry-After while the journal is busy or the disk full. The tenant is X-Scope-OrgID.
 */

import { FormatError } from '../../formats/errors.js';
import { GelfLabels, gelfPayloadText, gelfRecord, parseGelf } from '../../formats/gelf/decode.js';
import { DiskFullError } from '../../journal/disk-full.js';
import { nowNs } from '../../model/time.js';
import { asHttpError } from '../http/errors.js';
import { type Handler, type Reply, type Router, text } from '../http/router.js';
import { lokiErrorReply } from '../loki/errors.js';
import { admitAndReadBody } from '../receivers/http-body.js';
import { type Intake, ReceiverBusyError } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';

export interface GelfHttpOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly maxBodyBytes: number;
}

export function registerGelfHttp(router: Router, o: GelfHttpOptions): void {
  const labels = new GelfLabels();
  const handler: Handler = async (ctx) => {
    let size = 0;
    try {
      const body = await admitAndReadBody(ctx, o.intake, o.maxBodyBytes);
      size = body.length;
      const record = gelfRecord(parseGelf(gelfPayloadText(body, o.maxBodyBytes)), labels, nowNs());
      const r = await o.intake.write({ access: ctx.access, records: [record], counter: o.counter });
      if (r.firstRefusal !== undefined) return text(400, `${r.firstRefusal}\n`);
      return { status: 202 };
    } catch (err) {
      if (err instanceof FormatError || asHttpError(err)) o.counter.count('refused', 1, size);
      throw err;
    }
  };
  const onError = (err: unknown): Reply => {
    if (err instanceof DiskFullError || err instanceof ReceiverBusyError) {
      return { ...text(503, `${err.message}\n`), headers: { 'retry-after': String(err.retryAfterSeconds) } };
    }
    return lokiErrorReply(err);
  };
  router.add(['POST'], '/gelf', handler, onError);
}
