/**
 * @module The Loki push's limits applied record by record, for the receivers that answer per record
 * (OTLP's partial success, Elasticsearch bulk's per-item results, the journal upload): the same
 * rules and texts as loki-push/validate.ts (Loki's distributor, pkg/distributor/validator.go), but
 * each refusal is tied to its record rather than counted per stream, so that a receiver can say
 * which item failed. Labels are checked once per labels object (receivers share one object per
 * stream, across requests too), and structured metadata measured once per attributes object
 * (receivers intern repeated sets) once per run of records that share it, so a record pays only for its time and its line. One checker
 * may serve many requests: `at(now)` moves its time window.
 */
import { Buffer } from 'node:buffer';
import type { Labels } from '../model/record.js';
import { TimeWindow } from '../model/validate-time.js';
import { RecentObjects } from '../util/recent.js';
import { labelSetText } from './loki-push/labels.js';
import type { PushLimits } from './loki-push/validate.js';

/** Why a record was refused: the reason (as `X-Kjournal-Entries-Refused` names it) and Loki's text. */
export interface Refusal {
  readonly reason: string;
  readonly message: string;
}

/** What a record is made of, before the limits. */
export interface CheckedFields {
  readonly labels: Labels;
  readonly timestamp: bigint;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

const SERVICE_NAME = 'service_name';
/** Attributes objects remembered to tell a shared one (seen again among them) from a one-off. */
const RECENT = 8;

/** Names and bytes of names plus values of an attributes object. */
interface MetadataSize {
  readonly count: number;
  readonly bytes: number;
}

export class RecordChecker {
  private window: TimeWindow;
  private readonly labelProblems = new WeakMap<Labels, Refusal | null>();
  private lastLabels: Labels | undefined;
  private lastLabelsProblem: Refusal | undefined;
  private readonly texts = new WeakMap<Labels, string>();
  private readonly metadataSizes = new WeakMap<object, MetadataSize>();
  private readonly recentMetadata = new RecentObjects<object, MetadataSize>(RECENT);
  private lastMetadata: object | undefined;
  private lastMetadataSize: MetadataSize = { count: 0, bytes: 0 };

  constructor(
    private readonly limits: PushLimits,
    nowNs: bigint,
  ) {
    this.window = new TimeWindow(limits, nowNs);
  }

  /** The time window of a request received at `nowNs`. */
  at(nowNs: bigint): this {
    this.window = new TimeWindow(this.limits, nowNs);
    return this;
  }

  /** The stream's labels as Loki prints them in its messages. */
  streamText(labels: Labels): string {
    let text = this.texts.get(labels);
    if (text === undefined) {
      text = labelSetText(labels);
      this.texts.set(labels, text);
    }
    return text;
  }

  /**
   * Undefined when the record passes every limit, else the first refusal (labels, time, line,
   * metadata). `lineBytes`: the UTF-8 length of the body, when the caller has it.
   */
  check(r: CheckedFields, lineBytes = Buffer.byteLength(r.body, 'utf8')): Refusal | undefined {
    const labelProblem = this.labelsProblem(r.labels);
    if (labelProblem) return labelProblem;
    const limits = this.limits;
    const timeProblem = this.window.check(r.timestamp);
    if (timeProblem !== undefined) {
      return {
        reason: timeProblem,
        message: this.window.message(this.streamText(r.labels), r.timestamp, timeProblem),
      };
    }
    if (limits.maxLineSize !== 0 && lineBytes > limits.maxLineSize) {
      return {
        reason: 'line_too_long',
        message: `Max entry size '${limits.maxLineSize}' bytes exceeded for stream '${this.streamText(r.labels)}' while adding an entry with length '${lineBytes}' bytes`,
      };
    }
    const metadata = r.attributes;
    if (metadata === undefined) return undefined;
    const { count, bytes } = this.metadataSize(metadata);
    if (count === 0) return undefined;
    const text = (): string => this.streamText(r.labels);
    if (!limits.allowStructuredMetadata) {
      return {
        reason: 'structured_metadata',
        message: `stream '${text()}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`,
      };
    }
    if (limits.maxStructuredMetadataSize !== 0 && bytes > limits.maxStructuredMetadataSize) {
      return {
        reason: 'structured_metadata',
        message: `stream '${text()}' has structured metadata too large: '${bytes}' bytes, limit: '${limits.maxStructuredMetadataSize}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
      };
    }
    if (limits.maxStructuredMetadataEntriesCount !== 0 && count > limits.maxStructuredMetadataEntriesCount) {
      return {
        reason: 'structured_metadata',
        message: `stream '${text()}' has too many structured metadata labels: '${count}', limit: '${limits.maxStructuredMetadataEntriesCount}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
      };
    }
    return undefined;
  }

  /**
   * Measured once per attributes object shared by records: interned sets recur across requests
   * and interleave within one (a journal's units), so a run cache alone measured the same object
   * over and over (a sixth of the intake's time for a journal upload). An object goes into the
   * weak cache when seen again among the last RECENT objects measured, so that records with one
   * object each (OTLP's, with their own observed_timestamp) do not pay for a weak entry they never
   * use (a weak entry per record cost two and a half times the check itself).
   */
  private metadataSize(metadata: Readonly<Record<string, string>>): MetadataSize {
    if (metadata === this.lastMetadata) return this.lastMetadataSize;
    let size = this.metadataSizes.get(metadata);
    if (size === undefined) {
      size = this.recentMetadata.get(metadata);
      if (size !== undefined) {
        // Seen again: shared, worth a weak entry.
        if (size.count > 0) this.metadataSizes.set(metadata, size);
      } else {
        let count = 0;
        let bytes = 0;
        for (const k in metadata) {
          count++;
          bytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(metadata[k]!, 'utf8');
        }
        size = { count, bytes };
        this.recentMetadata.add(metadata, size);
      }
    }
    this.lastMetadata = metadata;
    this.lastMetadataSize = size;
    return size;
  }

  /** Loki's ValidateLabels on a label set, once per labels object. */
  private labelsProblem(labels: Labels): Refusal | undefined {
    // Records come grouped by stream: the last answer first, then the weak map.
    if (labels === this.lastLabels) return this.lastLabelsProblem;
    const problem = this.labelsProblemOnce(labels);
    this.lastLabels = labels;
    this.lastLabelsProblem = problem;
    return problem;
  }

  private labelsProblemOnce(labels: Labels): Refusal | undefined {
    const known = this.labelProblems.get(labels);
    if (known !== undefined) return known ?? undefined;
    const problem = this.findLabelsProblem(labels);
    this.labelProblems.set(labels, problem ?? null);
    return problem;
  }

  private findLabelsProblem(labels: Labels): Refusal | undefined {
    const names = Object.keys(labels);
    const refuse = (message: string): Refusal => ({ reason: 'invalid_labels', message });
    if (names.length === 0) return refuse('error at least one label pair is required per stream');
    const text = this.streamText(labels);
    const count = names.length - (Object.hasOwn(labels, SERVICE_NAME) ? 1 : 0);
    if (count > this.limits.maxLabelNamesPerSeries) {
      return refuse(
        `entry for stream '${text}' has ${count} label names; limit ${this.limits.maxLabelNamesPerSeries}`,
      );
    }
    for (const name of names) {
      if (name.length > this.limits.maxLabelNameLength)
        return refuse(`stream '${text}' has label name too long: '${name}'`);
      const value = labels[name]!;
      if (Buffer.byteLength(value, 'utf8') > this.limits.maxLabelValueLength)
        return refuse(`stream '${text}' has label value too long: '${value}'`);
    }
    return undefined;
  }
}
