/** @module The shapes a Loki push request decodes to, whichever encoding it arrived in. */

/** One log line of a pushed stream. */
export interface PushEntry {
  /** Nanoseconds since the Unix epoch, exact (a JSON string or a protobuf Timestamp carries all 9 digits). */
  timestamp: bigint;
  line: string;
  /** Loki's structured metadata: the third JSON element, or `structuredMetadata` in protobuf. */
  metadata?: Record<string, string>;
}

/** One pushed stream, its labels already parsed the way Loki parses them. */
export interface PushStream {
  /**
   * The labels as Loki prints them after parsing (`{a="1", b="2"}`: sorted, empty values dropped).
   * Loki's error messages name a stream by this text, so ours do too.
   */
  labelsText: string;
  /** Shared by every stream with the same labels (it comes from a cache): frozen, never mutate it. */
  labels: Record<string, string>;
  entries: PushEntry[];
}

/** A stream as the body carries it, before its labels string is parsed. */
export interface DecodedStream {
  /** The protobuf `labels` string, or for JSON the label object printed as Loki prints it. */
  labelsText: string;
  entries: PushEntry[];
}

/**
 * Go's zero `time.Time` (0001-01-01T00:00:00Z) in nanoseconds. Loki gives an entry that carries no
 * timestamp this time, so it is rejected as too old like in Loki rather than being stored at 1970.
 */
export const GO_ZERO_TIME_NS = -62_135_596_800n * 1_000_000_000n;
