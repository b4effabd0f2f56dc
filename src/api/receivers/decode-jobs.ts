/**
 * @module What a decode worker does (./decode-worker.ts), as pure functions the tests also run on
 * the main thread: a receiver's body decoded into records by the receivers' own decoders
 * (formats/otlp/, formats/splunk-hec/, formats/es-bulk/), packed for the trip back
 * (./decode-packed.ts), and an error of a decoder described so that the main thread rebuilds the
 * same class (same status, body and headers as when it decodes inline).
 */

import { FormatError, type FormatErrorCode } from '../../formats/errors.js';
import type { BulkItem } from '../../formats/es-bulk/bulk.js';
import { bulkBodyRecords, LabelSets } from '../../formats/es-bulk/records.js';
import { decodeOtlpJson, otlpRecords } from '../../formats/otlp/index.js';
import { decodeHecEvents, HecFormatError, HecLabels, hecRecord } from '../../formats/splunk-hec/decode.js';
import { SetInterner } from '../../model/intern.js';
import type { RawRecord } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { parseJsonBody, withJsonText } from '../../util/json-text.js';
import { badRequest, HttpError } from '../http/errors.js';
import { checkBodyBounds } from './decode-route.js';

/** A body to decode, and what its decoder needs besides. */
export type DecodeJob =
  | {
      readonly kind: 'otlp-json';
      readonly maxRecords: number;
      readonly now: bigint;
      /** The body was not scanned while read (api/http/encoded-body.ts): check its bounds first. */
      readonly checkBounds: boolean;
    }
  | { readonly kind: 'hec-event'; readonly maxEvents: number; readonly now: bigint }
  | {
      readonly kind: 'es-bulk';
      readonly maxRecords: number;
      readonly now: bigint;
      /** The path's index (`/<index>/_bulk`), '' for `/_bulk`. Bounded line by line (formats/es-bulk/bulk.ts). */
      readonly index: string;
    };

/** What a body decodes to: its records, and for a bulk request its items and their records' slots. */
export interface DecodedBody {
  readonly records: RawRecord[];
  /** The records' bodies' UTF-8 lengths, when a worker measured them (for the intake). */
  readonly lineBytes?: Uint32Array;
  readonly bulk?: { readonly items: BulkItem[]; readonly slot: number[] };
}

/** What a worker keeps across jobs (so a stream's labels object is built once per worker). */
export interface DecodeState {
  readonly labelSets: SetInterner<Labels>;
  readonly hecLabels: HecLabels;
  readonly bulkLabels: LabelSets;
}

export const newDecodeState = (): DecodeState => ({
  labelSets: new SetInterner<Labels>(),
  hecLabels: new HecLabels(),
  bulkLabels: new LabelSets(),
});

/** The records of an OTLP/JSON body (inline or in a worker); a body that is not JSON is a 400. */
export function otlpJsonRecords(
  body: Buffer,
  maxRecords: number,
  now: bigint,
  labelSets: SetInterner<Labels>,
): RawRecord[] {
  let doc: unknown;
  try {
    doc = parseJsonBody(body);
  } catch (err) {
    throw badRequest(`invalid OTLP/JSON: ${(err as Error).message}`);
  }
  return otlpRecords(decodeOtlpJson(doc, maxRecords), { now, labelSets });
}

/**
 * The records of a HEC `/event` body (inline or in a worker). An object event is kept as its text
 * as sent: the body's own, not the escaped text's (util/json-text.ts).
 */
export function hecEventRecords(
  body: Buffer,
  maxEvents: number,
  now: bigint,
  labels: HecLabels,
): RawRecord[] {
  const events = withJsonText(body, (text, source) =>
    decodeHecEvents(text, maxEvents, (start, end) => source.original(start, end)),
  );
  return events.map((e, i) => hecRecord(e, labels, now, i));
}

/** The records of `body`, as the receiver's handler decodes them inline; throws as it does. */
export function decodeJob(job: DecodeJob, body: Buffer, state: DecodeState): DecodedBody {
  if (job.kind === 'otlp-json') {
    if (job.checkBounds) checkBodyBounds(body);
    return { records: otlpJsonRecords(body, job.maxRecords, job.now, state.labelSets) };
  }
  if (job.kind === 'es-bulk') {
    const { items, records, slot } = bulkBodyRecords(
      body,
      job.index,
      job.maxRecords,
      job.now,
      state.bulkLabels,
    );
    return { records, bulk: { items, slot } };
  }
  return { records: hecEventRecords(body, job.maxEvents, job.now, state.hecLabels) };
}

/** A decoder's error as a message (structured clone keeps no class). */
export type WireError =
  | { readonly t: 'hec'; readonly hecCode: number; readonly message: string; readonly event?: number }
  | { readonly t: 'format'; readonly code: FormatErrorCode; readonly message: string }
  | { readonly t: 'http'; readonly status: number; readonly message: string }
  | { readonly t: 'other'; readonly message: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof HecFormatError) {
    return {
      t: 'hec',
      hecCode: err.hecCode,
      message: err.message,
      ...(err.invalidEventNumber !== undefined ? { event: err.invalidEventNumber } : {}),
    };
  }
  if (err instanceof FormatError) return { t: 'format', code: err.code, message: err.message };
  if (err instanceof HttpError) return { t: 'http', status: err.status, message: err.message };
  return { t: 'other', message: err instanceof Error ? err.message : String(err) };
}

/** The error the decoder threw, rebuilt: the handlers' error replies see the same class. */
export function fromWireError(w: WireError): Error {
  switch (w.t) {
    case 'hec':
      return new HecFormatError(w.hecCode, w.message, w.event);
    case 'format':
      return new FormatError(w.code, w.message);
    case 'http':
      return new HttpError(w.status, w.message);
    default:
      return new Error(`decode worker: ${w.message}`);
  }
}
