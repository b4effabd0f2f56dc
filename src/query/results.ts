/**
 * @module Query results in Loki's JSON shapes (streams, vector, matrix) and its stats object.
 */
import type { Labels } from '../model/record.js';

/** `[<ns timestamp string>, <line>]`, or with a third element of metadata. */
export type StreamValue = [string, string] | [string, string, Record<string, unknown>];

export interface StreamResult {
  stream: Labels;
  values: StreamValue[];
}

export interface VectorSample {
  metric: Labels;
  /** [unix seconds, value as text] */
  value: [number, string];
}

export interface MatrixSeries {
  metric: Labels;
  values: [number, string][];
}

export type QueryData =
  | { resultType: 'streams'; result: StreamResult[] }
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: [number, string] };

export interface QueryStats {
  execTimeSeconds: number;
  entriesReturned: number;
  linesProcessed: number;
  bytesProcessed: number;
}

/** Loki's `stats` object; the summary carries what kjournal measures. */
export function lokiStats(s: QueryStats): Record<string, unknown> {
  const exec = s.execTimeSeconds;
  return {
    summary: {
      bytesProcessedPerSecond: exec > 0 ? Math.round(s.bytesProcessed / exec) : 0,
      linesProcessedPerSecond: exec > 0 ? Math.round(s.linesProcessed / exec) : 0,
      totalBytesProcessed: s.bytesProcessed,
      totalLinesProcessed: s.linesProcessed,
      execTime: exec,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: s.entriesReturned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: s.linesProcessed,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: { store: { totalChunksRef: 0, totalChunksDownloaded: 0, chunksDownloadTime: 0 } },
    ingester: { totalReached: 0, totalChunksMatched: 0, totalBatches: 0, totalLinesSent: 0 },
  };
}

/** Unix seconds as a JSON number, as Prometheus and Loki print sample times. */
export function unixSeconds(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000;
}

/** Prometheus formats sample values with Go's strconv.FormatFloat(v, 'f', -1, 64). */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
