/**
 * @module What every receiver of another collector's protocol (OTLP, Elasticsearch bulk, journal
 * upload, and the TCP receivers) does with the records it decoded, in the Loki push's order
 * (api/loki/push.ts): the push limits record by record (formats/record-check.ts), the labels
 * normalised once per stream (records.ts), authorization by what the records carry
 * (auth/writes.ts: `create` on their resources, before anything is stored, so a refused request
 * stores nothing), then the journal (flows, store: durable before this resolves). The receiver
 * answers in its protocol's words from the result: which items were refused and why.
 *
 * The counters are per protocol (`kjournal_receiver_records_total` and
 * `kjournal_receiver_bytes_total`, result `accepted` or `refused`): records are log lines; bytes
 * are the bytes of their lines, or, for a request refused before its records could be read
 * (malformed, too large, unauthorized), the bytes of its body.
 */
import type { Counter } from 'prom-client';
import type { Access } from '../auth/access.js';
import { requireWrite } from '../auth/writes.js';
import type { RecordChecker, Refusal } from '../formats/record-check.js';
import type { RawRecord } from '../model/normalize.js';
import type { Appended, Journal } from './journal.js';
import { storedRecords } from './records.js';

/** The receivers' counters (the server's registry has them: server/metrics.ts). */
export interface ReceiverMetrics {
  readonly receiverRecords: Counter<'protocol' | 'result'>;
  readonly receiverBytes: Counter<'protocol' | 'result'>;
}

/** The counters of one protocol. */
export class ReceiverCounts {
  constructor(
    private readonly metrics: ReceiverMetrics | undefined,
    readonly protocol: string,
  ) {}

  accepted(records: number, bytes: number): void {
    if (!this.metrics || (records === 0 && bytes === 0)) return;
    this.metrics.receiverRecords.inc({ protocol: this.protocol, result: 'accepted' }, records);
    this.metrics.receiverBytes.inc({ protocol: this.protocol, result: 'accepted' }, bytes);
  }

  refused(records: number, bytes: number): void {
    if (!this.metrics || (records === 0 && bytes === 0)) return;
    this.metrics.receiverRecords.inc({ protocol: this.protocol, result: 'refused' }, records);
    this.metrics.receiverBytes.inc({ protocol: this.protocol, result: 'refused' }, bytes);
  }
}

/** One decoded item: a record, or the reason the decoder already refused it. */
export type IntakeItem = RawRecord | Refusal;

const isRefusal = (item: IntakeItem): item is Refusal => (item as Refusal).reason !== undefined;

export interface IntakeResult extends Appended {
  /** Per item, in order: undefined when it was taken, else why not. */
  readonly refusals: readonly (Refusal | undefined)[];
  /** Items taken (stored or duplicates) and refused. */
  readonly accepted: number;
  readonly refused: number;
  /** Refused items by reason (for `X-Kjournal-Entries-Refused`). */
  readonly refusedByReason: Record<string, number>;
}

export interface IntakeOptions {
  readonly journal: Pick<Journal, 'write'>;
  readonly access: Access;
  readonly checker: RecordChecker;
  readonly counts: ReceiverCounts;
}

/**
 * The records grouped by stream (labels object), in order within each: what a Loki push body is.
 * Shippers interleave streams (a bulk request of a node's pods, a journal of many units); the
 * store looks a stream up whenever the labels change from one record to the next, which was a
 * third of an interleaved request's store time.
 */
function byStream<T extends { labels: object }>(records: T[]): T[] {
  if (records.length < 2) return records;
  let changes = 0;
  for (let i = 1; i < records.length; i++) if (records[i]!.labels !== records[i - 1]!.labels) changes++;
  if (changes === 0) return records;
  const groups = new Map<object, T[]>();
  for (const r of records) {
    const g = groups.get(r.labels);
    if (g) g.push(r);
    else groups.set(r.labels, [r]);
  }
  if (groups.size === changes + 1) return records;
  const out: T[] = [];
  for (const g of groups.values()) for (const r of g) out.push(r);
  return out;
}

/**
 * Checks, authorizes and writes the items. Throws ForbiddenError (nothing stored) when `access` may
 * not create them, and the journal's errors (DiskFullError, RefusedRecordsError) as they come.
 */
export async function intake(o: IntakeOptions, items: readonly IntakeItem[]): Promise<IntakeResult> {
  const refusals: (Refusal | undefined)[] = new Array(items.length);
  const refusedByReason: Record<string, number> = {};
  const taken: RawRecord[] = [];
  let lineBytes = 0;
  let refusedBytes = 0;
  let refused = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const why = isRefusal(item) ? item : o.checker.check(item);
    if (why === undefined) {
      const r = item as RawRecord;
      taken.push(r);
      lineBytes += Buffer.byteLength(r.body, 'utf8');
      continue;
    }
    refusals[i] = why;
    refused++;
    refusedByReason[why.reason] = (refusedByReason[why.reason] ?? 0) + 1;
    if (!isRefusal(item)) refusedBytes += Buffer.byteLength(item.body, 'utf8');
  }
  let appended: Appended;
  try {
    // Labels normalised once per stream, in place (journal/records.ts).
    const records = byStream(storedRecords(taken));
    await requireWrite(o.access, records);
    appended =
      records.length > 0
        ? await o.journal.write(o.access.tenant, records, { knownBytes: lineBytes })
        : { stored: 0, duplicates: 0 };
  } catch (err) {
    // Unauthorized, or the journal refused the write (full disk, store down): nothing was stored.
    o.counts.refused(items.length, lineBytes + refusedBytes);
    throw err;
  }
  o.counts.accepted(taken.length, lineBytes);
  o.counts.refused(refused, refusedBytes);
  return { ...appended, refusals, accepted: taken.length, refused, refusedByReason };
}
