/**
 * @module Loki's distributor checks on decoded streams (pkg/distributor/validator.go ValidateLabels
 * and ValidateEntry, texts from pkg/validation/validate.go), with Loki's default limits.
 *
 * A partly invalid push is partly ingested, as in Loki's distributor (pushWithResolver): a stream
 * whose labels fail is dropped whole, an entry that fails is dropped alone, everything else is
 * written, and the client then gets 400 with every error grouped into one message (Loki's
 * GroupedErrors). A client that retries on 400 is wrong, as with Loki; agents do not retry 4xx.
 * A request with no streams at all gets 422 `error at least one valid stream is required for
 * ingestion`; streams with no entries are skipped without complaint. The time check is the one every
 * intake shares (../validate-time.ts); the refused entries are also counted by reason, for the
 * response headers (../entry-counts.ts).
 *
 * Not enforced here, being ingester or tenant matters in Loki: rate limits, out-of-order/too-far-
 * behind entries, stream limits, enforced labels, service_name discovery, line truncation.
 */
import { Buffer } from 'node:buffer';
import type { RawRecord } from '../../model/normalize.js';
import { DEFAULT_CREATION_GRACE_PERIOD_NS, type TimeLimits, TimeWindow } from '../../model/validate-time.js';
import { MISSING_STREAMS_MESSAGE } from './json.js';
import { LabelParseError, type ParsedLabels, parseLabels } from './labels.js';
import type { PushStream } from './types.js';

export interface PushLimits extends TimeLimits {
  /** `max_line_size`, bytes of the line; 0 means no limit. */
  maxLineSize: number;
  /** `max_label_names_per_series` (a `service_name` label does not count, as in Loki). */
  maxLabelNamesPerSeries: number;
  /** `max_label_name_length`, bytes. */
  maxLabelNameLength: number;
  /** `max_label_value_length`, bytes. */
  maxLabelValueLength: number;
  /** `allow_structured_metadata`. */
  allowStructuredMetadata: boolean;
  /** `max_structured_metadata_size`, bytes of names plus values per entry; 0 means no limit. */
  maxStructuredMetadataSize: number;
  /** `max_structured_metadata_entries_count` per entry; 0 means no limit. */
  maxStructuredMetadataEntriesCount: number;
}

const HOUR_NS = 3_600_000_000_000n;

/** Loki's defaults (pkg/validation/limits.go RegisterFlags). */
export const DEFAULT_PUSH_LIMITS: Readonly<PushLimits> = Object.freeze({
  maxLineSize: 256 * 1024, // "256KB", read base 2 by Loki's flagext.ByteSize
  maxLabelNamesPerSeries: 15,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  rejectOldSamples: true,
  rejectOldSamplesMaxAge: 7n * 24n * HOUR_NS, // "7d"
  creationGracePeriod: DEFAULT_CREATION_GRACE_PERIOD_NS, // "10m"
  allowStructuredMetadata: true,
  maxStructuredMetadataSize: 64 * 1024, // "64kb"
  maxStructuredMetadataEntriesCount: 128,
});

export interface PushValidation {
  /** The entries that passed, ready for the store. */
  records: RawRecord[];
  /** One Loki message per rejected stream or entry, in request order. */
  errors: string[];
  /**
   * Entries refused, by reason (`too_old`, `too_new`, `line_too_long`, `invalid_labels` for every
   * entry of a stream whose labels fail, `structured_metadata`): what `X-Kjournal-Entries-Refused`
   * reports, so that a client counts without reading the messages.
   */
  refused: Record<string, number>;
  /** Entries accepted. */
  lines: number;
  /** Bytes accepted: lines plus structured metadata names and values (Loki's EntryTotalSize). */
  bytes: number;
  /** Bytes of the accepted lines alone. */
  lineBytes: number;
  /** What Loki answers: 204 all taken, 400 some or all rejected, 422 no streams at all. */
  status: 204 | 400 | 422;
  /** The response body for 400/422 (errors grouped as Loki groups them); empty for 204. */
  message: string;
}

/** Loki's util.GroupedErrors.Error(): "N errors like: <msg>" per distinct message, joined by "; ". */
export function groupPushErrors(errors: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  const parts: string[] = [];
  for (const [msg, n] of counts) parts.push(counts.size > 1 || n > 1 ? `${n} errors like: ${msg}` : msg);
  return parts.join('; ');
}

const SERVICE_NAME = 'service_name';
// Loki's own aggregated-metric and pattern streams skip label validation.
const INTERNAL_LABELS = ['__aggregated_metric__', '__pattern__'];

/** ValidateLabels: undefined when the stream's labels pass, else Loki's message. */
function labelsError(parsed: ParsedLabels, limits: PushLimits): string | undefined {
  const pairs = parsed.pairs;
  if (pairs.length === 0) return 'error at least one label pair is required per stream';
  const labels = parsed.labels;
  if (INTERNAL_LABELS.some((n) => Object.hasOwn(labels, n))) return undefined;
  const text = parsed.text;
  const count = pairs.length - (Object.hasOwn(labels, SERVICE_NAME) ? 1 : 0);
  if (count > limits.maxLabelNamesPerSeries) {
    return `entry for stream '${text}' has ${count} label names; limit ${limits.maxLabelNamesPerSeries}`;
  }
  let last = '';
  for (const p of pairs) {
    // Valid names are ASCII, so length is bytes.
    if (p.name.length > limits.maxLabelNameLength)
      return `stream '${text}' has label name too long: '${p.name}'`;
    if (p.valueBytes > limits.maxLabelValueLength)
      return `stream '${text}' has label value too long: '${p.value}'`;
    if (p.name === last) return `stream '${text}' has duplicate label name: '${p.name}'`;
    last = p.name;
  }
  return undefined;
}

function streamLabels(stream: PushStream): ParsedLabels | string {
  try {
    return parseLabels(stream.labelsText);
  } catch (err) {
    // Only reachable for streams not made by decodePushBody; Loki's InvalidLabelsErrorMsg.
    if (err instanceof LabelParseError)
      return `Error parsing labels '${stream.labelsText}' with error: ${err.message}`;
    throw err;
  }
}

/**
 * Applies Loki's distributor validation at `nowNs`. Records carry the stream's labels object
 * (shared, frozen), the entry's structured metadata as attributes, and `nowNs` as observed time.
 */
export function validatePush(
  streams: readonly PushStream[],
  limits: PushLimits,
  nowNs: bigint,
): PushValidation {
  if (streams.length === 0) {
    return {
      records: [],
      errors: [],
      refused: {},
      lines: 0,
      bytes: 0,
      lineBytes: 0,
      status: 422,
      message: MISSING_STREAMS_MESSAGE,
    };
  }
  const records: RawRecord[] = [];
  const errors: string[] = [];
  const refused: Record<string, number> = {};
  const refuse = (reason: string, message: string, entries = 1): void => {
    errors.push(message);
    refused[reason] = (refused[reason] ?? 0) + entries;
  };
  let lines = 0;
  let bytes = 0;
  let lineBytesTotal = 0;
  let sizedMetadata: Record<string, string> | undefined;
  let sizedCount = 0;
  let sizedBytes = 0;

  const window = new TimeWindow(limits, nowNs);
  const maxLine = limits.maxLineSize;
  const allowMetadata = limits.allowStructuredMetadata;
  const maxMetadataSize = limits.maxStructuredMetadataSize;
  const maxMetadataCount = limits.maxStructuredMetadataEntriesCount;

  for (const stream of streams) {
    const entries = stream.entries;
    if (entries.length === 0) continue;
    const parsed = streamLabels(stream);
    const labelProblem = typeof parsed === 'string' ? parsed : labelsError(parsed, limits);
    if (labelProblem !== undefined) {
      refuse('invalid_labels', labelProblem, entries.length);
      continue;
    }
    const labels = stream.labels;
    const text = stream.labelsText;

    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const ts = e.timestamp;
      // Loki's zero time (an entry without a timestamp) is before 1970: too old, in Loki's words.
      const timeProblem = window.check(ts);
      if (timeProblem !== undefined) {
        refuse(timeProblem, window.message(text, ts, timeProblem));
        continue;
      }
      const line = e.line;
      // Loki limits bytes, not characters.
      const lineBytes = Buffer.byteLength(line, 'utf8');
      if (maxLine !== 0 && lineBytes > maxLine) {
        refuse(
          'line_too_long',
          `Max entry size '${maxLine}' bytes exceeded for stream '${text}' while adding an entry with length '${lineBytes}' bytes`,
        );
        continue;
      }
      let metadata = e.metadata;
      let metadataBytes = 0;
      if (metadata !== undefined) {
        // Entries of a stream often share one metadata object (proto.ts): sized once.
        if (metadata !== sizedMetadata) {
          sizedMetadata = metadata;
          sizedCount = 0;
          sizedBytes = 0;
          for (const k in metadata) {
            sizedCount++;
            sizedBytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(metadata[k]!, 'utf8');
          }
        }
        const count = sizedCount;
        metadataBytes = sizedBytes;
        if (count === 0) {
          metadata = undefined;
        } else if (!allowMetadata) {
          refuse(
            'structured_metadata',
            `stream '${text}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`,
          );
          continue;
        } else if (maxMetadataSize !== 0 && metadataBytes > maxMetadataSize) {
          refuse(
            'structured_metadata',
            `stream '${text}' has structured metadata too large: '${metadataBytes}' bytes, limit: '${maxMetadataSize}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
          );
          continue;
        } else if (maxMetadataCount !== 0 && count > maxMetadataCount) {
          refuse(
            'structured_metadata',
            `stream '${text}' has too many structured metadata labels: '${count}', limit: '${maxMetadataCount}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
          );
          continue;
        }
      }
      records.push({ timestamp: ts, observedTimestamp: nowNs, labels, attributes: metadata, body: line });
      lines++;
      bytes += lineBytes + metadataBytes;
      lineBytesTotal += lineBytes;
    }
  }

  const status = errors.length > 0 ? 400 : 204;
  return {
    records,
    errors,
    refused,
    lines,
    bytes,
    lineBytes: lineBytesTotal,
    status,
    message: status === 400 ? groupPushErrors(errors) : '',
  };
}
