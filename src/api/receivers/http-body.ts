/**
 * @module The start of the GELF and Splunk HEC HTTP handlers: admitted by the intake's
 * back-pressure (api/receivers/intake.ts: refused before the body is read while writes queue or
 * the disk is full), then the body read within `--max-body-size` with its Content-Encoding undone
 * (api/http/encoded-body.ts: 413 naming the limit).
 */
import { readEncodedBody } from '../http/encoded-body.js';
import type { RequestContext } from '../http/router.js';
import type { Intake } from './intake.js';

export async function admitAndReadBody(
  ctx: RequestContext,
  intake: Intake,
  maxBodyBytes: number,
): Promise<Buffer> {
  // An unauthenticated caller learns nothing of the server's load.
  if (intake.busy) await ctx.access.require([]);
  intake.admitWrite();
  return readEncodedBody(ctx.req, { maxBodyBytes });
}
